"""Chapter 8: mistakes in the backward passes of pooling and convolution, and in the gradient check."""

_MAXB = ("def max_pool2d_backward(dout, x, kernel_size, stride=None):\n"
         "    k = kernel_size\n"
         "    s = k if stride is None else stride\n"
         "    N, C, H_out, W_out = dout.shape\n"
         "    dx = np.zeros(x.shape)\n"
         "    for n in range(N):\n"
         "        for c in range(C):\n"
         "            for i in range(H_out):\n"
         "                for j in range(W_out):\n"
         "                    window = x[n, c, i * s:i * s + k, j * s:j * s + k]\n"
         "                    r, q = np.unravel_index(np.argmax(window), window.shape)\n"
         "                    dx[n, c, i * s + r, j * s + q] += dout[n, c, i, j]\n"
         "    return dx\n")

_AVGB = ("def avg_pool2d_backward(dout, x_shape, kernel_size, stride=None):\n"
         "    k = kernel_size\n"
         "    s = k if stride is None else stride\n"
         "    H_out, W_out = dout.shape[2:]\n"
         "    dx = np.zeros(x_shape)\n"
         "    for i in range(H_out):\n"
         "        for j in range(W_out):\n"
         "            dx[:, :, i * s:i * s + k, j * s:j * s + k] += dout[:, :, i:i + 1, j:j + 1] / (k * k)\n"
         "    return dx\n")

_CONVB = ("def conv2d_backward(dout, x, w, padding=0, stride=1):\n"
          "    N, F, H_out, W_out = dout.shape\n"
          "    _, C, H, W = x.shape\n"
          "    KH, KW = w.shape[2:]\n"
          "    P, S = padding, stride\n"
          "    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))\n"
          "    HD, WD = (H_out - 1) * S + 1, (W_out - 1) * S + 1\n"
          "    d = np.zeros((N, F, HD, WD))\n"
          "    d[:, :, ::S, ::S] = dout\n"
          "    db = dout.sum(axis=(0, 2, 3))\n"
          "    dw = np.zeros(w.shape)\n"
          "    for u in range(KH):\n"
          "        for v in range(KW):\n"
          "            patch = xp[:, :, u:u + HD, v:v + WD]\n"
          "            dw[:, :, u, v] = np.einsum('nchw,nfhw->fc', patch, d)\n"
          "    w_rot = w[:, :, ::-1, ::-1]\n"
          "    dpad = np.pad(d, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))\n"
          "    dxp = np.zeros(xp.shape)\n"
          "    for r in range(HD + KH - 1):\n"
          "        for s in range(WD + KW - 1):\n"
          "            window = dpad[:, :, r:r + KH, s:s + KW]\n"
          "            dxp[:, :, r, s] = np.einsum('nfuv,fcuv->nc', window, w_rot)\n"
          "    dx = dxp[:, :, P:P + H, P:P + W]\n"
          "    return dx, dw, db\n")

# the stride-1 backward of before this exercise knew strides (its signature has no stride)
_CONVB_STRIDE1 = ("def conv2d_backward(dout, x, w, padding=0):\n"
                  "    N, F, H_out, W_out = dout.shape\n"
                  "    _, C, H, W = x.shape\n"
                  "    KH, KW = w.shape[2:]\n"
                  "    P = padding\n"
                  "    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))\n"
                  "    db = dout.sum(axis=(0, 2, 3))\n"
                  "    dw = np.zeros(w.shape)\n"
                  "    for u in range(KH):\n"
                  "        for v in range(KW):\n"
                  "            patch = xp[:, :, u:u + H_out, v:v + W_out]\n"
                  "            dw[:, :, u, v] = np.einsum('nchw,nfhw->fc', patch, dout)\n"
                  "    w_rot = w[:, :, ::-1, ::-1]\n"
                  "    dpad = np.pad(dout, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))\n"
                  "    dxp = np.zeros(xp.shape)\n"
                  "    for r in range(xp.shape[2]):\n"
                  "        for s in range(xp.shape[3]):\n"
                  "            window = dpad[:, :, r:r + KH, s:s + KW]\n"
                  "            dxp[:, :, r, s] = np.einsum('nfuv,fcuv->nc', window, w_rot)\n"
                  "    dx = dxp[:, :, P:P + H, P:P + W]\n"
                  "    return dx, dw, db\n")

# the scatter form: each dout[n, f, i, j] stamps w[f] at (S·i, S·j) of the padded input
_CONVB_SCATTER = ("def conv2d_backward(dout, x, w, padding=0, stride=1):\n"
                  "    N, F, H_out, W_out = dout.shape\n"
                  "    KH, KW = w.shape[2:]\n"
                  "    P, S = padding, stride\n"
                  "    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))\n"
                  "    dxp = np.zeros(xp.shape)\n"
                  "    dw = np.zeros(w.shape)\n"
                  "    for i in range(H_out):\n"
                  "        for j in range(W_out):\n"
                  "            g = dout[:, :, i, j]\n"
                  "            dxp[:, :, S * i:S * i + KH, S * j:S * j + KW] += np.einsum('nf,fcuv->ncuv', g, w)\n"
                  "            dw += np.einsum('nf,ncuv->fcuv', g, xp[:, :, S * i:S * i + KH, S * j:S * j + KW])\n"
                  "    dx = dxp[:, :, P:P + x.shape[2], P:P + x.shape[3]]\n"
                  "    return dx, dw, dout.sum(axis=(0, 2, 3))\n")

_FIND = ("def find_wrong_backward(forward, candidates, x):\n"
         "    rng = np.random.default_rng(0)\n"
         "    x = np.array(x, dtype=np.float64)\n"
         "    g = rng.normal(size=np.shape(forward(x)))\n"
         "    numeric = gradcheck.numerical_gradient(lambda xx: float(np.sum(forward(xx) * g)), x)\n"
         "    errors = {}\n"
         "    for name, backward in candidates.items():\n"
         "        dx = np.asarray(backward(g, x), dtype=np.float64)\n"
         "        errors[name] = np.max(np.abs(dx - numeric) / np.maximum(np.abs(dx) + np.abs(numeric), 1e-12))\n"
         "    return max(errors, key=errors.get)\n")


def _edit(src, old, new):
    assert old in src, old
    return src.replace(old, new)


MISTAKES = {
    "ch08-maxpool-impl": {
        "δ spread to every cell of the window": (
            _edit(_MAXB, "                    r, q = np.unravel_index(np.argmax(window), window.shape)\n"
                         "                    dx[n, c, i * s + r, j * s + q] += dout[n, c, i, j]\n",
                  "                    dx[n, c, i * s:i * s + k, j * s:j * s + k] += dout[n, c, i, j]\n"), 0),
        "every tied maximum receives δ": (
            _edit(_MAXB, "                    r, q = np.unravel_index(np.argmax(window), window.shape)\n"
                         "                    dx[n, c, i * s + r, j * s + q] += dout[n, c, i, j]\n",
                  "                    dx[n, c, i * s:i * s + k, j * s:j * s + k] += (window == window.max()) * dout[n, c, i, j]\n"), 0),
        "the last maximum wins a tie (a >= scan)": (
            _edit(_MAXB, "                    r, q = np.unravel_index(np.argmax(window), window.shape)\n",
                  "                    best, r, q = -np.inf, 0, 0\n"
                  "                    for a in range(window.shape[0]):\n"
                  "                        for bb in range(window.shape[1]):\n"
                  "                            if window[a, bb] >= best:\n"
                  "                                best, r, q = window[a, bb], a, bb\n"), 0),
        "overlapping windows overwrite instead of add": (
            _edit(_MAXB, "dx[n, c, i * s + r, j * s + q] += dout", "dx[n, c, i * s + r, j * s + q] = dout"), 0),
        "stride ignored (windows step by k)": (_edit(_MAXB, "    s = k if stride is None else stride\n", "    s = k\n"), 0),
        "the switch placed without the window's offset": (
            _edit(_MAXB, "dx[n, c, i * s + r, j * s + q]", "dx[n, c, r, q]"), 0),
    },
    "ch08-avgpool-impl": {
        "the 1/k² forgotten": (_edit(_AVGB, " / (k * k)", ""), 0),
        "divided by k instead of k²": (_edit(_AVGB, " / (k * k)", " / k"), 0),
        "overlapping windows overwrite instead of add": (
            _edit(_AVGB, "j * s + k] += dout", "j * s + k] = dout"), 0),
        "stride ignored (windows step by k)": (_edit(_AVGB, "    s = k if stride is None else stride\n", "    s = k\n"), 0),
        "np.kron upsampling, which ignores stride and the border": (
            "def avg_pool2d_backward(dout, x_shape, kernel_size, stride=None):\n"
            "    k = kernel_size\n"
            "    up = np.kron(dout, np.ones((k, k))) / (k * k)\n"
            "    dx = np.zeros(x_shape)\n"
            "    dx[:, :, :up.shape[2], :up.shape[3]] = up\n"
            "    return dx\n", 0),
    },
    "ch08-convback-impl": {
        "dx without the kernel rotation": (_edit(_CONVB, "    w_rot = w[:, :, ::-1, ::-1]\n", "    w_rot = w\n"), 2),
        "the kernel flipped along one axis only": (
            _edit(_CONVB, "    w_rot = w[:, :, ::-1, ::-1]\n", "    w_rot = w[:, :, ::-1, :]\n"), 2),
        "padding not cropped from dx": (_edit(_CONVB, "    dx = dxp[:, :, P:P + H, P:P + W]\n", "    dx = dxp\n"), 2),
        "dx cropped with [P:-P], empty when P = 0": (
            _edit(_CONVB, "    dx = dxp[:, :, P:P + H, P:P + W]\n", "    dx = dxp[:, :, P:-P, P:-P]\n"), 2),
        # the patches of the unpadded x are too short when padding > 0: the function fails there, so
        # every part fails (before the test called it inside each part, this scored 5 of 5)
        "dw from the unpadded input": (
            _edit(_CONVB, "patch = xp[:, :, u:u + HD, v:v + WD]", "patch = x[:, :, u:u + HD, v:v + WD]"), 0),
        "dw averaged over the batch": (_edit(_CONVB, "    w_rot = w[:, :, ::-1, ::-1]\n", "    dw = dw / N\n    w_rot = w[:, :, ::-1, ::-1]\n"), 4),
        "dw rotated by 180° too": (_edit(_CONVB, "    return dx, dw, db\n", "    return dx, dw[:, :, ::-1, ::-1], db\n"), 4),
        "db averaged over the batch instead of summed": (
            _edit(_CONVB, "    db = dout.sum(axis=(0, 2, 3))\n", "    db = dout.sum(axis=(2, 3)).mean(axis=0)\n"), 4),
        "db summed over every axis but the batch": (
            _edit(_CONVB, "    db = dout.sum(axis=(0, 2, 3))\n", "    db = dout.sum(axis=(1, 2, 3))\n"), 4),
        "dw and db returned in the wrong order": (_edit(_CONVB, "    return dx, dw, db\n", "    return dx, db, dw\n"), 3),
        # stride > 1 (written from the exercise text before its hidden tests): each loses the
        # "stride 2" part (2 points) and keeps dx, dw, db of stride 1
        "stride ignored: the stride-1 backward, no stride argument": (_CONVB_STRIDE1, 5),
        "stride accepted but ignored (no dilation)": (
            _CONVB_STRIDE1.replace("def conv2d_backward(dout, x, w, padding=0):",
                                   "def conv2d_backward(dout, x, w, padding=0, stride=1):"), 5),
        "dilated with S zeros between entries instead of S − 1": (
            _edit(_CONVB, "    HD, WD = (H_out - 1) * S + 1, (W_out - 1) * S + 1\n"
                          "    d = np.zeros((N, F, HD, WD))\n"
                          "    d[:, :, ::S, ::S] = dout\n",
                  "    G = S + 1 if S > 1 else 1\n"
                  "    HD, WD = (H_out - 1) * G + 1, (W_out - 1) * G + 1\n"
                  "    d = np.zeros((N, F, HD, WD))\n"
                  "    d[:, :, ::G, ::G] = dout\n"), 5),
        "no dilation: the full convolution of dout written to every S-th row and column": (
            _CONVB_STRIDE1.replace("def conv2d_backward(dout, x, w, padding=0):",
                                   "def conv2d_backward(dout, x, w, padding=0, stride=1):")
            .replace("    for r in range(xp.shape[2]):\n        for s in range(xp.shape[3]):\n",
                     "    for r in range(H_out + KH - 1):\n        for s in range(W_out + KW - 1):\n")
            .replace("dxp[:, :, r, s] = np", "dxp[:, :, r * stride, s * stride] = np"), 5),
        "the dilated δ with H_out·S rows (S − 1 trailing zeros too)": (
            _edit(_CONVB, "    HD, WD = (H_out - 1) * S + 1, (W_out - 1) * S + 1\n", "    HD, WD = H_out * S, W_out * S\n"), 5),
        "the unreached edge dropped: dx sized (H_out − 1)·S + K": (
            _edit(_CONVB, "    dxp = np.zeros(xp.shape)\n", "    dxp = np.zeros((N, C, HD + KH - 1, WD + KW - 1))\n"), 5),
        "the unreached edge appended at the top and left instead of the bottom and right": (
            _edit(_CONVB, "            dxp[:, :, r, s] = np.einsum",
                  "            dxp[:, :, r + xp.shape[2] - (HD + KH - 1), s + xp.shape[3] - (WD + KW - 1)] = np.einsum"), 5),
        "dw from the undilated dout (contiguous patches)": (
            _edit(_CONVB, "            patch = xp[:, :, u:u + HD, v:v + WD]\n"
                          "            dw[:, :, u, v] = np.einsum('nchw,nfhw->fc', patch, d)\n",
                  "            patch = xp[:, :, u:u + H_out, v:v + W_out]\n"
                  "            dw[:, :, u, v] = np.einsum('nchw,nfhw->fc', patch, dout)\n"), 5),
        "scatter that stamps the kernel at (i, j) instead of (S·i, S·j)": (
            _edit(_CONVB_SCATTER, "dxp[:, :, S * i:S * i + KH, S * j:S * j + KW] +=", "dxp[:, :, i:i + KH, j:j + KW] +="), 5),
    },
    "ch08-findbug-impl": {
        "the first candidate returned": ("def find_wrong_backward(forward, candidates, x):\n"
                                         "    return next(iter(candidates))\n", 0),
        "the right candidate's name (smallest error) returned": (
            _edit(_FIND, "return max(errors, key=errors.get)", "return min(errors, key=errors.get)"), 0),
        "the candidate function returned instead of its name": (
            _edit(_FIND, "return max(errors, key=errors.get)", "return candidates[max(errors, key=errors.get)]"), 0),
        "absolute error with a fixed tolerance, first failure returned": (
            _edit(_FIND, "        errors[name] = np.max(np.abs(dx - numeric) / np.maximum(np.abs(dx) + np.abs(numeric), 1e-12))\n"
                         "    return max(errors, key=errors.get)\n",
                  "        if np.max(np.abs(dx - numeric)) > 1e-7:\n"
                  "            return name\n"), 0),
        "g = ones instead of a random g": (
            _edit(_FIND, "    g = rng.normal(size=np.shape(forward(x)))\n", "    g = np.ones(np.shape(forward(x)))\n"), 0),
        "a majority vote among the candidates, no gradient check": (
            "def find_wrong_backward(forward, candidates, x):\n"
            "    x = np.array(x, dtype=np.float64)\n"
            "    g = np.random.default_rng(0).normal(size=np.shape(forward(x)))\n"
            "    dxs = {name: np.asarray(bw(g, x), dtype=float) for name, bw in candidates.items()}\n"
            "    agree = {name: sum(np.allclose(d, e) for e in dxs.values()) for name, d in dxs.items()}\n"
            "    return min(agree, key=agree.get)\n", 0),
    },
}

# correct in another style: full marks
ALTERNATIVES = {
    "ch08-convback-impl": {
        "the scatter form: each δ stamps the kernel at (S·i, S·j)": (_CONVB_SCATTER, 7),
        "dilation by np.kron with trailing zeros, the overhang cropped": (
            "def conv2d_backward(dout, x, w, padding=0, stride=1):\n"
            "    N, F, H_out, W_out = dout.shape\n"
            "    KH, KW = w.shape[2:]\n"
            "    P, S = padding, stride\n"
            "    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))\n"
            "    one = np.zeros((S, S)); one[0, 0] = 1.0\n"
            "    d = np.kron(dout, one)\n"
            "    Hp, Wp = xp.shape[2:]\n"
            "    d = d[:, :, :Hp - KH + 1, :Wp - KW + 1]\n"
            "    dw = np.zeros(w.shape)\n"
            "    for u in range(KH):\n"
            "        for v in range(KW):\n"
            "            dw[:, :, u, v] = np.einsum('nchw,nfhw->fc', xp[:, :, u:u + d.shape[2], v:v + d.shape[3]], d)\n"
            "    dpad = np.pad(d, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))\n"
            "    dxp = np.zeros(xp.shape)\n"
            "    for a in range(KH):\n"
            "        for e in range(KW):\n"
            "            dxp += np.einsum('nfhw,fc->nchw', dpad[:, :, a:a + Hp, e:e + Wp], w[:, :, KH - 1 - a, KW - 1 - e])\n"
            "    return dxp[:, :, P:P + x.shape[2], P:P + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))\n", 7),
    },
}
