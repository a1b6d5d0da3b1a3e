"""Chapter 3: mistakes in the activations' derivatives and the sigmoid chain's backward pass."""

MISTAKES = {
    "ch03-sigmoid_grad-impl": {
        "a naive sigmoid that overflows": (
            "def sigmoid_grad(x):\n"
            "    s = 1 / (1 + np.exp(-np.asarray(x, float)))\n"
            "    return s * (1 - s)\n", 0),
        "the hint's formula without the absolute value": (
            "def sigmoid_grad(x):\n"
            "    e = np.exp(-np.asarray(x, float))\n"
            "    return e / (1 + e) ** 2\n", 0),
        "a two-branch np.where that evaluates both branches": (
            "def sigmoid_grad(x):\n"
            "    x = np.asarray(x, float)\n"
            "    s = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))\n"
            "    return s * (1 - s)\n", 0),
        "the square forgotten: e/(1 + e)": (
            "def sigmoid_grad(x):\n"
            "    e = np.exp(-np.abs(np.asarray(x, float)))\n"
            "    return e / (1 + e)\n", 0),
        "tanh's derivative 1 - s**2": (
            "def sigmoid_grad(x):\n"
            "    s = activations.sigmoid(np.asarray(x, float))\n"
            "    return 1 - s ** 2\n", 0),
    },
    "ch03-relu_grad-impl": {
        "1 at x = 0 (x >= 0)": (
            "def relu_grad(x):\n"
            "    return (np.asarray(x) >= 0).astype(np.float64)\n", 0),
        "a boolean array, not a float array": (
            "def relu_grad(x):\n"
            "    return np.asarray(x) > 0\n", 0),
        "an integer array, not a float array": (
            "def relu_grad(x):\n"
            "    return np.where(np.asarray(x) > 0, 1, 0)\n", 0),
        "np.heaviside with 0.5 at 0": (
            "def relu_grad(x):\n"
            "    return np.heaviside(np.asarray(x, float), 0.5)\n", 0),
        "ReLU itself instead of its derivative": (
            "def relu_grad(x):\n"
            "    return np.maximum(np.asarray(x, float), 0.0)\n", 0),
        "x overwritten in place": (
            "def relu_grad(x):\n"
            "    x[x <= 0] = 0.0\n"
            "    x[x > 0] = 1.0\n"
            "    return x\n", 0),
    },
    "ch03-sigmoid_chain_grad-impl": {
        "the factor a_{k-1} forgotten": (
            "def sigmoid_chain_grad(x, w):\n"
            "    w = np.asarray(w, float)\n"
            "    a, z = [float(x)], []\n"
            "    for wk in w:\n"
            "        z.append(wk * a[-1]); a.append(float(activations.sigmoid(np.array(z[-1]))))\n"
            "    g, da = np.zeros_like(w), 1.0\n"
            "    for k in reversed(range(len(w))):\n"
            "        dz = da * float(sigmoid_grad(np.array(z[k])))\n"
            "        g[k] = dz\n"
            "        da = dz * w[k]\n"
            "    return g\n", 0),
        "a_k instead of a_{k-1} (off by one)": (
            "def sigmoid_chain_grad(x, w):\n"
            "    w = np.asarray(w, float)\n"
            "    a, z = [float(x)], []\n"
            "    for wk in w:\n"
            "        z.append(wk * a[-1]); a.append(float(activations.sigmoid(np.array(z[-1]))))\n"
            "    g, da = np.zeros_like(w), 1.0\n"
            "    for k in reversed(range(len(w))):\n"
            "        dz = da * float(sigmoid_grad(np.array(z[k])))\n"
            "        g[k] = dz * a[k + 1]\n"
            "        da = dz * w[k]\n"
            "    return g\n", 0),
        "sigma' dropped when passing the gradient to a_{k-1}": (
            "def sigmoid_chain_grad(x, w):\n"
            "    w = np.asarray(w, float)\n"
            "    a, z = [float(x)], []\n"
            "    for wk in w:\n"
            "        z.append(wk * a[-1]); a.append(float(activations.sigmoid(np.array(z[-1]))))\n"
            "    g, da = np.zeros_like(w), 1.0\n"
            "    for k in reversed(range(len(w))):\n"
            "        g[k] = da * float(sigmoid_grad(np.array(z[k]))) * a[k]\n"
            "        da = da * w[k]\n"
            "    return g\n", 0),
        "gradients in backward order (entry 0 is dy/dw_n)": (
            "def sigmoid_chain_grad(x, w):\n"
            "    w = np.asarray(w, float)\n"
            "    a, z = [float(x)], []\n"
            "    for wk in w:\n"
            "        z.append(wk * a[-1]); a.append(float(activations.sigmoid(np.array(z[-1]))))\n"
            "    g, da = [], 1.0\n"
            "    for k in reversed(range(len(w))):\n"
            "        dz = da * float(sigmoid_grad(np.array(z[k])))\n"
            "        g.append(dz * a[k])\n"
            "        da = dz * w[k]\n"
            "    return np.array(g)\n", 0),
        "sigma' evaluated at a_k instead of z_k": (
            "def sigmoid_chain_grad(x, w):\n"
            "    w = np.asarray(w, float)\n"
            "    a, z = [float(x)], []\n"
            "    for wk in w:\n"
            "        z.append(wk * a[-1]); a.append(float(activations.sigmoid(np.array(z[-1]))))\n"
            "    g, da = np.zeros_like(w), 1.0\n"
            "    for k in reversed(range(len(w))):\n"
            "        dz = da * float(sigmoid_grad(np.array(a[k + 1])))\n"
            "        g[k] = dz * a[k]\n"
            "        da = dz * w[k]\n"
            "    return g\n", 0),
        "np.zeros_like(w) truncates the gradients of integer weights": (
            "def sigmoid_chain_grad(x, w):\n"
            "    w = np.asarray(w)\n"
            "    a, z = [float(x)], []\n"
            "    for wk in w:\n"
            "        z.append(wk * a[-1]); a.append(float(activations.sigmoid(np.array(z[-1]))))\n"
            "    g, da = np.zeros_like(w), 1.0\n"
            "    for k in reversed(range(len(w))):\n"
            "        dz = da * float(sigmoid_grad(np.array(z[k])))\n"
            "        g[k] = dz * a[k]\n"
            "        da = dz * w[k]\n"
            "    return g\n", 0),
    },
}
