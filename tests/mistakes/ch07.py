"""Chapter 7: mistakes in the convolution and pooling forward passes."""

# the model solution's loops, with one line changed in each mistake
_CONV = ("def conv2d_forward(x, w, b, stride=1, padding=0):\n"
         "    N, C, H, W = x.shape\n"
         "    F, _, KH, KW = w.shape\n"
         "    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
         "    H_out = (H + 2 * padding - KH) // stride + 1\n"
         "    W_out = (W + 2 * padding - KW) // stride + 1\n"
         "    out = np.zeros((N, F, H_out, W_out))\n"
         "    for n in range(N):\n"
         "        for f in range(F):\n"
         "            for i in range(H_out):\n"
         "                for j in range(W_out):\n"
         "                    window = xp[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]\n"
         "                    out[n, f, i, j] = np.sum(window * w[f]) + (0.0 if b is None else b[f])\n"
         "    return out\n")


def _conv(old, new):
    assert old in _CONV, old
    return _CONV.replace(old, new)


def _pool(name, reduce, body=None, head="    s = k if stride is None else stride\n",
          size="    H_out, W_out = (H - k) // s + 1, (W - k) // s + 1\n"):
    body = body or f"            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].{reduce}(axis=(2, 3))\n"
    return (f"def {name}(x, kernel_size, stride=None):\n"
            "    k = kernel_size\n" + head +
            "    N, C, H, W = x.shape\n" + size +
            "    out = np.zeros((N, C, H_out, W_out))\n"
            "    for i in range(H_out):\n"
            "        for j in range(W_out):\n" + body +
            "    return out\n")


MISTAKES = {
    "ch07-conv-impl": {
        "the kernel flipped (true convolution, not cross-correlation)": (
            _conv("window * w[f]", "window * w[f, :, ::-1, ::-1]"), 0),
        "output size H + 2P - K, the + 1 forgotten": (
            _conv("    H_out = (H + 2 * padding - KH) // stride + 1\n    W_out = (W + 2 * padding - KW) // stride + 1\n",
                  "    H_out = (H + 2 * padding - KH) // stride\n    W_out = (W + 2 * padding - KW) // stride\n"), 0),
        "padding ignored": (
            _conv("    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
                  "    H_out = (H + 2 * padding - KH) // stride + 1\n    W_out = (W + 2 * padding - KW) // stride + 1\n",
                  "    xp = x\n    H_out = (H - KH) // stride + 1\n    W_out = (W - KW) // stride + 1\n"), 0),
        "stride shrinks the output but the window does not jump": (
            _conv("xp[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]", "xp[n, :, i:i + KH, j:j + KW]"), 0),
        "channels not summed (each channel overwrites the last)": (
            _conv("                    window = xp[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]\n"
                  "                    out[n, f, i, j] = np.sum(window * w[f]) + (0.0 if b is None else b[f])\n",
                  "                    for c in range(C):\n"
                  "                        window = xp[n, c, i * stride:i * stride + KH, j * stride:j * stride + KW]\n"
                  "                        out[n, f, i, j] = np.sum(window * w[f, c]) + (0.0 if b is None else b[f])\n"), 0),
        "bias forgotten": (_conv(" + (0.0 if b is None else b[f])", ""), 0),
        "b=None not handled": (_conv("(0.0 if b is None else b[f])", "b[f]"), 0),
        "a square kernel assumed (KH used for the width too)": (
            _conv("    W_out = (W + 2 * padding - KW) // stride + 1\n", "    W_out = (W + 2 * padding - KH) // stride + 1\n")
            .replace("j * stride + KW", "j * stride + KH"), 0),
        "(out, cache) returned like dlcore's": (_conv("    return out\n", "    return out, (x, w, b, stride, padding)\n"), 0),
    },
    "ch07-maxpool-impl": {
        "stride ignored (always k)": (_pool("max_pool2d_forward", "max", head="    s = k\n"), 0),
        "stride=None not turned into k": (_pool("max_pool2d_forward", "max", head="    s = stride\n"), 0),
        "output size (H - k) // s, the + 1 forgotten": (
            _pool("max_pool2d_forward", "max", size="    H_out, W_out = (H - k) // s, (W - k) // s\n"), 0),
        "the maximum taken over the channels too": (
            _pool("max_pool2d_forward", "max", body="            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k]"
                                                    ".max(axis=(1, 2, 3))[:, None]\n"), 0),
        "windows step by k whatever the stride": (
            _pool("max_pool2d_forward", "max", body="            out[:, :, i, j] = x[:, :, i * k:i * k + k, j * k:j * k + k]"
                                                    ".max(axis=(2, 3))\n"), 0),
        "partial windows at the border kept (ceil mode)": (
            _pool("max_pool2d_forward", "max", size="    H_out, W_out = -(-(H - k) // s) + 1, -(-(W - k) // s) + 1\n"), 0),
    },
    "ch07-avgpool-impl": {
        "the sum instead of the mean": (_pool("avg_pool2d_forward", "sum"), 0),
        "divided by k instead of k²": (
            _pool("avg_pool2d_forward", "sum", body="            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k]"
                                                    ".sum(axis=(2, 3)) / k\n"), 0),
        "stride ignored (always k)": (_pool("avg_pool2d_forward", "mean", head="    s = k\n"), 0),
        "the mean taken over the channels too": (
            _pool("avg_pool2d_forward", "mean", body="            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k]"
                                                     ".mean(axis=(1, 2, 3))[:, None]\n"), 0),
        "partial windows at the border averaged (ceil mode)": (
            _pool("avg_pool2d_forward", "mean", size="    H_out, W_out = -(-(H - k) // s) + 1, -(-(W - k) // s) + 1\n"), 0),
        "stride=None not turned into k": (_pool("avg_pool2d_forward", "mean", head="    s = stride\n"), 0),
    },
}
