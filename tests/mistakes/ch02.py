"""Chapter 2: mistakes in softmax, log-softmax, cross-entropy and its gradient."""

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
}
