"""Chapter 9 (capstone): mistakes in the fast convolution, the whole network, the training step and
the training loop. Each runs after the chapter's model solutions, the carried functions included."""

_FAST = ("def conv2d_forward_fast(x, w, b, padding=0):\n"
         "    N, C, H, W = x.shape\n"
         "    F, _, KH, KW = w.shape\n"
         "    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
         "    H_out, W_out = H + 2 * padding - KH + 1, W + 2 * padding - KW + 1\n"
         "    out = np.zeros((N, F, H_out, W_out))\n"
         "    for u in range(KH):\n"
         "        for v in range(KW):\n"
         "            out += np.einsum('nchw,fc->nfhw', xp[:, :, u:u + H_out, v:v + W_out], w[:, :, u, v])\n"
         "    if b is not None:\n"
         "        out += b[None, :, None, None]\n"
         "    return out\n")

_NET = ("def cnn_forward_backward(params, x, y):\n"
        "    n = len(x)\n"
        "    z = conv2d_forward_fast(x, params['conv_w'], params['conv_b'], padding=1)\n"
        "    a = np.maximum(z, 0.0)\n"
        "    p = max_pool2d_forward(a, 2)\n"
        "    flat = p.reshape(n, -1)\n"
        "    logits = affine_forward(flat, params['fc_w'], params['fc_b'])\n"
        "    loss = cross_entropy(logits, y)\n"
        "    d_logits = cross_entropy_grad(logits, y)\n"
        "    d_flat, d_fc_w, d_fc_b = affine_backward(d_logits, flat, params['fc_w'])\n"
        "    d_pool = d_flat.reshape(p.shape)\n"
        "    d_relu = max_pool2d_backward(d_pool, a, 2)\n"
        "    d_conv = d_relu * relu_grad(z)\n"
        "    _, d_conv_w, d_conv_b = conv2d_backward(d_conv, x, params['conv_w'], 1)\n"
        "    grads = {'conv_w': d_conv_w, 'conv_b': d_conv_b, 'fc_w': d_fc_w, 'fc_b': d_fc_b}\n"
        "    return loss, grads, {'logits': d_logits, 'pool': d_pool, 'relu': d_relu, 'conv': d_conv}\n")

_STEP = ("def train_step(params, state, x, y, lr, momentum):\n"
         "    loss, grads, _ = cnn_forward_backward(params, x, y)\n"
         "    new_params, new_state = {}, {}\n"
         "    for name in params:\n"
         "        new_params[name], new_state[name] = sgd_momentum_step(params[name], grads[name], state.get(name, {}), lr, momentum)\n"
         "    return new_params, new_state, loss\n")

_TRAIN = ("def train_cnn(params, X, y, epochs, lr, momentum, batch_size, rng):\n"
          "    state, out = {}, []\n"
          "    for _ in range(epochs):\n"
          "        order = rng.permutation(len(X))\n"
          "        for i in range(0, len(X), batch_size):\n"
          "            batch = order[i:i + batch_size]\n"
          "            params, state, loss = train_step(params, state, X[batch], y[batch], lr, momentum)\n"
          "            out.append(loss)\n"
          "    return params, np.array(out)\n")


def _edit(base, old, new):
    assert old in base, old
    return base.replace(old, new)


MISTAKES = {
    "ch09-fastconv-impl": {
        "the kernel flipped (a true convolution, not chapter 7's cross-correlation)": (
            _edit(_FAST, "w[:, :, u, v]", "w[:, :, KH - 1 - u, KW - 1 - v]"), 0),
        "the output size of the unpadded input (padding added to x but not to the size)": (
            _edit(_FAST, "H + 2 * padding - KH + 1, W + 2 * padding - KW + 1", "H - KH + 1, W - KW + 1"), 0),
        "the kernel's rows and columns swapped (w[:, :, v, u])": (
            _edit(_FAST, "w[:, :, u, v])", "w[:, :, v, u])"), 0),
        "the bias added without checking for None (passes the visible cases, which all have a bias)": (
            _edit(_FAST, "    if b is not None:\n        out += b[None, :, None, None]\n",
                  "    out += np.asarray(b, dtype=float)[None, :, None, None]\n"), 0),
        "padding on the rows only": (
            _edit(_FAST, "((0, 0), (0, 0), (padding, padding), (padding, padding))",
                  "((0, 0), (0, 0), (padding, padding), (0, 0))").replace(
                "W + 2 * padding - KW + 1", "W - KW + 1"), 0),
    },
    "ch09-network-impl": {
        "ReLU's backward forgotten (δ passes through unchanged)": (
            _edit(_NET, "d_relu * relu_grad(z)", "d_relu"), 1),
        "flattened channels-last (consistent forward and backward, but not the layout fc_w expects)": (
            _edit(_edit(_NET, "flat = p.reshape(n, -1)", "flat = p.transpose(0, 2, 3, 1).reshape(n, -1)"),
                  "d_pool = d_flat.reshape(p.shape)",
                  "d_pool = d_flat.reshape(n, p.shape[2], p.shape[3], p.shape[1]).transpose(0, 3, 1, 2)"), 1),
        "the batch mean taken twice (cross_entropy_grad already divides by N)": (
            _edit(_NET, "d_logits = cross_entropy_grad(logits, y)", "d_logits = cross_entropy_grad(logits, y) / n"), 1),
        "the pooling δ spread over every cell of its window instead of routed to the maximum": (
            _edit(_NET, "d_relu = max_pool2d_backward(d_pool, a, 2)",
                  "d_relu = np.repeat(np.repeat(d_pool, 2, axis=2), 2, axis=3)"), 1),
        "the δ at the ReLU output and at the convolution output swapped in the returned dict": (
            _edit(_NET, "'relu': d_relu, 'conv': d_conv}", "'relu': d_conv, 'conv': d_relu}"), 2),
        "the convolution's backward called without its padding": (
            _edit(_NET, "conv2d_backward(d_conv, x, params['conv_w'], 1)", "conv2d_backward(d_conv, x, params['conv_w'])"), 0),
    },
    "ch09-step-impl": {
        "one momentum state shared by all four parameters": (
            _edit(_edit(_STEP, "state.get(name, {})", "state.get('all', {})"),
                  "new_params[name], new_state[name] =", "new_params[name], new_state['all'] ="), 0),
        "the loss returned after the update instead of before": (
            _edit(_STEP, "    return new_params, new_state, loss\n",
                  "    return new_params, new_state, cnn_forward_backward(new_params, x, y)[0]\n"), 0),
        "plain SGD (the momentum buffer ignored)": (
            _edit(_STEP, "new_params[name], new_state[name] = sgd_momentum_step(params[name], grads[name], state.get(name, {}), lr, momentum)",
                  "new_params[name], new_state[name] = params[name] - lr * grads[name], {}"), 0),
        "params updated in place (the caller's dict changes)": (
            _edit(_STEP, "    new_params, new_state = {}, {}\n", "    new_params, new_state = params, {}\n"), 0),
    },
    "ch09-train-impl": {
        "no shuffling: every epoch in the same order 0, 1, 2, …": (
            _edit(_TRAIN, "order = rng.permutation(len(X))", "order = np.arange(len(X))"), 2),
        "one permutation drawn once, reused by every epoch": (
            _edit(_edit(_TRAIN, "        order = rng.permutation(len(X))\n", ""),
                  "    state, out = {}, []\n", "    state, out = {}, []\n    order = rng.permutation(len(X))\n"), 0),
        "the momentum buffers reset at every epoch": (
            _edit(_edit(_TRAIN, "    state, out = {}, []\n", "    out = []\n"),
                  "        order = rng.permutation(len(X))\n", "        state = {}\n        order = rng.permutation(len(X))\n"), 2),
        "the last, smaller batch of each epoch dropped": (
            _edit(_TRAIN, "range(0, len(X), batch_size)", "range(0, len(X) - batch_size + 1, batch_size)"), 2),
        "the trained parameters lost (the initial ones returned)": (
            _edit(_TRAIN, "params, state, loss = train_step(params,", "new, state, loss = train_step(params,"), 0),
        "the notebook's recipe hard-coded instead of the arguments (passes the visible test only)": (
            _edit(_edit(_TRAIN, "range(epochs)", "range(3)"), "train_step(params, state, X[batch], y[batch], lr, momentum)",
                  "train_step(params, state, X[batch], y[batch], 0.1, 0.9)").replace(
                "range(0, len(X), batch_size)", "range(0, len(X), 32)").replace("order[i:i + batch_size]", "order[i:i + 32]"), 2),
    },
}

ALTERNATIVES = {
    "ch09-fastconv-impl": {
        "every window at once (sliding_window_view) and one tensordot": (
            "def conv2d_forward_fast(x, w, b, padding=0):\n"
            "    KH, KW = w.shape[2:]\n"
            "    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
            "    win = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))  # (N, C, Ho, Wo, KH, KW)\n"
            "    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))                   # (N, Ho, Wo, F)\n"
            "    out = out.transpose(0, 3, 1, 2)\n"
            "    return out if b is None else out + np.asarray(b)[None, :, None, None]\n", 2),
    },
    "ch09-network-impl": {
        "the affine layer's backward written out inline, δ through ReLU with a boolean mask": (
            _edit(_edit(_NET, "d_flat, d_fc_w, d_fc_b = affine_backward(d_logits, flat, params['fc_w'])",
                        "d_flat, d_fc_w, d_fc_b = d_logits @ params['fc_w'], d_logits.T @ flat, d_logits.sum(axis=0)"),
                  "d_relu * relu_grad(z)", "np.where(z > 0, d_relu, 0.0)"), 5),
    },
}
