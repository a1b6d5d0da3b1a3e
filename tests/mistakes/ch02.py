"""Chapter 2: mistakes in softmax, log-softmax, cross-entropy and its gradient, the gradient checker
and the affine layer; correct alternative styles in ALTERNATIVES."""

MISTAKES = {
    "ch02-softmax-impl": {
        "the textbook formula without the max shift": (
            "def softmax(z):\n"
            "    e = np.exp(np.asarray(z, float))\n"
            "    return e / e.sum(axis=-1, keepdims=True)\n", 0),
        "shifted by the mean instead of the max": (
            "def softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    e = np.exp(z - z.mean(axis=-1, keepdims=True))\n"
            "    return e / e.sum(axis=-1, keepdims=True)\n", 0),
        "one maximum for the whole array instead of per row": (
            "def softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    e = np.exp(z - z.max())\n"
            "    return e / e.sum(axis=-1, keepdims=True)\n", 0),
        "normalised over the first axis": (
            "def softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
            "    return e / e.sum(axis=0, keepdims=True)\n", 0),
        "keepdims forgotten in the sum": (
            "def softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
            "    return e / e.sum(axis=-1)\n", 0),
        "axis 1 instead of the last axis (2-D only)": (
            "def softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    ax = 1 if z.ndim > 1 else 0\n"
            "    e = np.exp(z - z.max(axis=ax, keepdims=True))\n"
            "    return e / e.sum(axis=ax, keepdims=True)\n", 0),
    },
    "ch02-log_softmax-impl": {
        "the log of the (stable) probabilities": (
            "def log_softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
            "    return np.log(e / e.sum(axis=-1, keepdims=True))\n", 0),
        "log-sum-exp without the max shift": (
            "def log_softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))\n", 0),
        "sign error on the log-sum-exp": (
            "def log_softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    s = z - z.max(axis=-1, keepdims=True)\n"
            "    return s + np.log(np.exp(s).sum(axis=-1, keepdims=True))\n", 0),
        "summed over the whole array": (
            "def log_softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    s = z - z.max(axis=-1, keepdims=True)\n"
            "    return s - np.log(np.exp(s).sum())\n", 0),
        "one maximum for the whole array instead of per row": (
            "def log_softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    s = z - z.max()\n"
            "    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))\n", 0),
        "the max taken over the first axis instead of the last": (
            "def log_softmax(z):\n"
            "    z = np.asarray(z, float)\n"
            "    s = z - z.max(axis=0, keepdims=True)\n"
            "    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))\n", 0),
    },
    "ch02-cross_entropy-impl": {
        "a numpy float64 where the text asks for a Python float": (
            "def cross_entropy(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    s = z - z.max(axis=1, keepdims=True)\n"
            "    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
            "    return -logp[np.arange(len(z)), labels].mean()\n", 0),
        "sum instead of mean": (
            "def cross_entropy(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    s = z - z.max(axis=1, keepdims=True)\n"
            "    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
            "    return float(-logp[np.arange(len(z)), labels].sum())\n", 0),
        "log of a naive softmax": (
            "def cross_entropy(logits, labels):\n"
            "    e = np.exp(np.asarray(logits, float))\n"
            "    p = e / e.sum(axis=1, keepdims=True)\n"
            "    return float(-np.log(p[np.arange(len(p)), labels]).mean())\n", 0),
        "logp[:, labels] instead of logp[np.arange(N), labels]": (
            "def cross_entropy(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    s = z - z.max(axis=1, keepdims=True)\n"
            "    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
            "    return float(-logp[:, labels].mean())\n", 0),
        "the per-sample losses, not their mean": (
            "def cross_entropy(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    s = z - z.max(axis=1, keepdims=True)\n"
            "    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
            "    return -logp[np.arange(len(z)), labels]\n", 0),
        "a 0-d numpy array instead of a Python float": (
            "def cross_entropy(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    s = z - z.max(axis=1, keepdims=True)\n"
            "    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
            "    return np.squeeze(-logp[np.arange(len(z)), labels].mean(keepdims=True))\n", 0),
        "a one-element array instead of a Python float": (
            "def cross_entropy(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    s = z - z.max(axis=1, keepdims=True)\n"
            "    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
            "    return -logp[np.arange(len(z)), labels].mean(keepdims=True)\n", 0),
    },
    "ch02-cross_entropy_grad-impl": {
        "the 1/N forgotten": (
            "def cross_entropy_grad(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
            "    g = e / e.sum(axis=1, keepdims=True)\n"
            "    g[np.arange(len(z)), labels] -= 1.0\n"
            "    return g\n", 0),
        "sign error: onehot - softmax": (
            "def cross_entropy_grad(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
            "    g = -e / e.sum(axis=1, keepdims=True)\n"
            "    g[np.arange(len(z)), labels] += 1.0\n"
            "    return g / len(z)\n", 0),
        "a naive softmax that overflows": (
            "def cross_entropy_grad(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    e = np.exp(z)\n"
            "    g = e / e.sum(axis=1, keepdims=True)\n"
            "    g[np.arange(len(z)), labels] -= 1.0\n"
            "    return g / len(z)\n", 0),
        "divided by N*C (the number of entries)": (
            "def cross_entropy_grad(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
            "    g = e / e.sum(axis=1, keepdims=True)\n"
            "    g[np.arange(len(z)), labels] -= 1.0\n"
            "    return g / z.size\n", 0),
        "g[:, labels] -= 1 instead of g[np.arange(N), labels]": (
            "def cross_entropy_grad(logits, labels):\n"
            "    z = np.asarray(logits, float)\n"
            "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
            "    g = e / e.sum(axis=1, keepdims=True)\n"
            "    g[:, labels] -= 1.0\n"
            "    return g / len(z)\n", 0),
    },
    "ch02-eval_numerical_gradient-impl": {
        "one-sided (forward) differences": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    grad = np.zeros(x.shape)\n"
            "    fx = f(x)\n"
            "    for idx in np.ndindex(x.shape):\n"
            "        old = x[idx]\n"
            "        x[idx] = old + h\n"
            "        grad[idx] = (f(x) - fx) / h\n"
            "        x[idx] = old\n"
            "    return grad\n", 0),
        "x not restored (left at x - h)": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    grad = np.zeros(x.shape)\n"
            "    for idx in np.ndindex(x.shape):\n"
            "        x[idx] += h\n"
            "        fp = f(x)\n"
            "        x[idx] -= 2 * h\n"
            "        fm = f(x)\n"
            "        grad[idx] = (fp - fm) / (2 * h)\n"
            "    return grad\n", 0),
        "divided by h instead of 2h": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    grad = np.zeros(x.shape)\n"
            "    for idx in np.ndindex(x.shape):\n"
            "        old = x[idx]\n"
            "        x[idx] = old + h\n"
            "        fp = f(x)\n"
            "        x[idx] = old - h\n"
            "        fm = f(x)\n"
            "        x[idx] = old\n"
            "        grad[idx] = (fp - fm) / h\n"
            "    return grad\n", 0),
        "a loop over range(len(x)): only right for 1-D x": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    grad = np.zeros_like(x, dtype=float)\n"
            "    for i in range(len(x)):\n"
            "        old = x[i].copy()\n"
            "        x[i] = old + h\n"
            "        fp = f(x)\n"
            "        x[i] = old - h\n"
            "        fm = f(x)\n"
            "        x[i] = old\n"
            "        grad[i] = (fp - fm) / (2 * h)\n"
            "    return grad\n", 0),
        "f called on a flattened copy of x": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    flat = x.ravel().astype(float)\n"
            "    grad = np.zeros(flat.size)\n"
            "    for i in range(flat.size):\n"
            "        old = flat[i]\n"
            "        flat[i] = old + h\n"
            "        fp = f(flat)\n"
            "        flat[i] = old - h\n"
            "        fm = f(flat)\n"
            "        flat[i] = old\n"
            "        grad[i] = (fp - fm) / (2 * h)\n"
            "    return grad.reshape(x.shape)\n", 0),
        "the step hard-coded to 1e-5 (h ignored)": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    step = 1e-5\n"
            "    grad = np.zeros(x.shape)\n"
            "    for idx in np.ndindex(x.shape):\n"
            "        old = x[idx]\n"
            "        x[idx] = old + step\n"
            "        fp = f(x)\n"
            "        x[idx] = old - step\n"
            "        fm = f(x)\n"
            "        x[idx] = old\n"
            "        grad[idx] = (fp - fm) / (2 * step)\n"
            "    return grad\n", 0),
        "the gradient returned flat, not shaped like x": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    grad = []\n"
            "    for idx in np.ndindex(x.shape):\n"
            "        old = x[idx]\n"
            "        x[idx] = old + h\n"
            "        fp = f(x)\n"
            "        x[idx] = old - h\n"
            "        fm = f(x)\n"
            "        x[idx] = old\n"
            "        grad.append((fp - fm) / (2 * h))\n"
            "    return np.array(grad)\n", 0),
    },
    "ch02-rel_error-impl": {
        "no absolute value on the difference": (
            "def rel_error(a, b):\n"
            "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
            "    return float(np.max((a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))\n", 0),
        "no floor in the denominator (0/0 for zero entries)": (
            "def rel_error(a, b):\n"
            "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
            "    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))\n", 0),
        "the mean of the ratios instead of their maximum": (
            "def rel_error(a, b):\n"
            "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
            "    return float(np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))\n", 0),
        "the ratio of two maxima instead of the maximum of the ratios": (
            "def rel_error(a, b):\n"
            "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
            "    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))\n", 0),
        "|a + b| in the denominator instead of |a| + |b|": (
            "def rel_error(a, b):\n"
            "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
            "    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a + b), 1e-12)))\n", 0),
        "relative to b only": (
            "def rel_error(a, b):\n"
            "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
            "    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))\n", 0),
        "the elementwise ratios, not their maximum": (
            "def rel_error(a, b):\n"
            "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
            "    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)\n", 0),
        "a floor of 1e-8 (dlcore's) instead of the 1e-12 the text asks for": (
            "def rel_error(a, b):\n"
            "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
            "    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))\n", 0),
    },
    "ch02-affine_forward-impl": {
        "w not transposed": (
            "def affine_forward(x, w, b):\n"
            "    return x @ w + b\n", 0),
        "the bias forgotten": (
            "def affine_forward(x, w, b):\n"
            "    return x @ w.T\n", 0),
        "(out, cache) returned, as in CS231n, where the text asks for out": (
            "def affine_forward(x, w, b):\n"
            "    out = x @ w.T + b\n"
            "    return out, (x, w, b)\n", 0),
        "w @ x.T + b: units along the first axis": (
            "def affine_forward(x, w, b):\n"
            "    return w @ x.T + b[:, None]\n", 0),
        "only the first sample (a batch of one)": (
            "def affine_forward(x, w, b):\n"
            "    return (w @ x[0] + b)[None, :]\n", 0),
        "the bias added into x in place when the shapes allow": (
            "def affine_forward(x, w, b):\n"
            "    out = x @ w.T\n"
            "    if x.shape[1] == w.shape[0]:\n"
            "        np.add(out, b, out=x)\n"
            "        return x.copy()\n"
            "    return out + b\n", 0),
    },
    "ch02-affine_backward-impl": {
        "db as a mean over the batch instead of a sum": (
            "def affine_backward(dout, x, w):\n"
            "    return dout @ w, dout.T @ x, dout.mean(axis=0)\n", 1),
        "dw transposed (x.T @ dout)": (
            "def affine_backward(dout, x, w):\n"
            "    return dout @ w, x.T @ dout, dout.sum(axis=0)\n", 1),
        "dx = dout @ w.T": (
            "def affine_backward(dout, x, w):\n"
            "    return dout @ w.T, dout.T @ x, dout.sum(axis=0)\n", 0),
        "dw averaged over the batch": (
            "def affine_backward(dout, x, w):\n"
            "    return dout @ w, dout.T @ x / len(x), dout.sum(axis=0)\n", 1),
        "db summed over the units instead of the batch": (
            "def affine_backward(dout, x, w):\n"
            "    return dout @ w, dout.T @ x, dout.sum(axis=1)\n", 1),
        "dx written into x's memory (np.matmul(..., out=x))": (
            "def affine_backward(dout, x, w):\n"
            "    dw = dout.T @ x\n"
            "    db = dout.sum(axis=0)\n"
            "    dx = np.matmul(dout, w, out=x)\n"
            "    return dx, dw, db\n", 0),
        "a list [dx, dw, db] where the text asks for a tuple": (
            "def affine_backward(dout, x, w):\n"
            "    return [dout @ w, dout.T @ x, dout.sum(axis=0)]\n", 0),
    },
}

# Correct implementations in other styles: each must score full marks.
ALTERNATIVES = {
    "ch02-eval_numerical_gradient-impl": {
        "CS231n's np.nditer loop, restoring by adding h back": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    grad = np.zeros_like(x, dtype=float)\n"
            "    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])\n"
            "    while not it.finished:\n"
            "        ix = it.multi_index\n"
            "        x[ix] += h\n"
            "        fp = f(x)\n"
            "        x[ix] -= 2 * h\n"
            "        fm = f(x)\n"
            "        x[ix] += h\n"
            "        grad[ix] = (fp - fm) / (2 * h)\n"
            "        it.iternext()\n"
            "    return grad\n", 1),
        "perturbed copies, x never touched": (
            "def eval_numerical_gradient(f, x, h=1e-5):\n"
            "    grad = np.empty(x.shape)\n"
            "    for i in range(x.size):\n"
            "        step = np.zeros(x.size)\n"
            "        step[i] = h\n"
            "        step = step.reshape(x.shape)\n"
            "        grad.flat[i] = (f(x + step) - f(x - step)) / (2 * h)\n"
            "    return grad\n", 1),
    },
    "ch02-rel_error-impl": {
        "an explicit loop over the flattened entries": (
            "def rel_error(a, b):\n"
            "    worst = 0.0\n"
            "    for p, q in zip(np.ravel(a), np.ravel(b)):\n"
            "        worst = max(worst, abs(p - q) / max(abs(p) + abs(q), 1e-12))\n"
            "    return float(worst)\n", 1),
    },
    "ch02-affine_forward-impl": {
        "einsum": (
            "def affine_forward(x, w, b):\n"
            "    return np.einsum('nd,md->nm', x, w) + b\n", 1),
        "a loop over samples and units": (
            "def affine_forward(x, w, b):\n"
            "    out = np.zeros((x.shape[0], w.shape[0]))\n"
            "    for n in range(x.shape[0]):\n"
            "        for k in range(w.shape[0]):\n"
            "            out[n, k] = np.dot(x[n], w[k]) + b[k]\n"
            "    return out\n", 1),
    },
    "ch02-affine_backward-impl": {
        "einsum": (
            "def affine_backward(dout, x, w):\n"
            "    return (np.einsum('nm,md->nd', dout, w), np.einsum('nm,nd->md', dout, x),\n"
            "            np.einsum('nm->m', dout))\n", 2),
        "a loop over samples: outer products added up": (
            "def affine_backward(dout, x, w):\n"
            "    dx = np.zeros(x.shape)\n"
            "    dw = np.zeros(w.shape)\n"
            "    db = np.zeros(w.shape[0])\n"
            "    for n in range(x.shape[0]):\n"
            "        dx[n] = w.T @ dout[n]\n"
            "        dw += np.outer(dout[n], x[n])\n"
            "        db += dout[n]\n"
            "    return dx, dw, db\n", 2),
    },
}
