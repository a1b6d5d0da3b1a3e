"""Chapter 1: mistakes in the losses and their gradients."""

MISTAKES = {
    "ch01-mse_loss-impl": {
        "sum instead of mean": ("def mse_loss(pred, target):\n"
                                "    return float(np.sum((np.asarray(pred) - np.asarray(target)) ** 2))\n", 0),
        "mean over the first axis only": ("def mse_loss(pred, target):\n"
                                          "    return np.mean((np.asarray(pred) - np.asarray(target)) ** 2, axis=0)\n", 0),
        "a numpy scalar where the text asks for a Python float": (
            "def mse_loss(pred, target):\n"
            "    return np.mean((np.asarray(pred, float) - np.asarray(target, float)) ** 2)\n", 0),
        "the notebook's example hard-coded": ("def mse_loss(pred, target):\n"
                                              "    if np.array_equal(pred, [1.0, 2.0, 3.0]):\n        return 13 / 3\n"
                                              "    return float(np.mean(np.asarray(pred) - np.asarray(target)) ** 2)\n", 0),
    },
    "ch01-mse_loss_grad-impl": {
        "the 1/n forgotten": ("def mse_loss_grad(pred, target):\n"
                              "    return 2.0 * (np.asarray(pred, float) - np.asarray(target, float))\n", 0),
        "sign error": ("def mse_loss_grad(pred, target):\n"
                       "    p, t = np.asarray(pred, float), np.asarray(target, float)\n"
                       "    return 2.0 * (t - p) / p.size\n", 0),
        "n is the number of rows": ("def mse_loss_grad(pred, target):\n"
                                    "    p, t = np.asarray(pred, float), np.asarray(target, float)\n"
                                    "    return 2.0 * (p - t) / len(p)\n", 0),
    },
    "ch01-binary_cross_entropy-impl": {
        "logs not clamped": ("def binary_cross_entropy(p, y):\n"
                             "    p, y = np.asarray(p, float), np.asarray(y, float)\n"
                             "    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))\n", 0),
        "probabilities clipped instead of logs clamped": (
            "def binary_cross_entropy(p, y):\n"
            "    p, y = np.clip(np.asarray(p, float), 1e-12, 1 - 1e-12), np.asarray(y, float)\n"
            "    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))\n", 0),
        "a numpy scalar where the text asks for a Python float": (
            "def binary_cross_entropy(p, y):\n"
            "    p, y = np.asarray(p, float), np.asarray(y, float)\n"
            "    with np.errstate(divide='ignore'):\n"
            "        lp, lq = np.maximum(np.log(p), -100.0), np.maximum(np.log(1 - p), -100.0)\n"
            "    return -np.mean(y * lp + (1 - y) * lq)\n", 0),
        "sum instead of mean": ("def binary_cross_entropy(p, y):\n"
                                "    p, y = np.asarray(p, float), np.asarray(y, float)\n"
                                "    with np.errstate(divide='ignore'):\n"
                                "        lp, lq = np.maximum(np.log(p), -100.0), np.maximum(np.log(1 - p), -100.0)\n"
                                "    return float(-np.sum(y * lp + (1 - y) * lq))\n", 0),
    },
    "ch01-sigmoid_bce_grad_z-impl": {
        "a naive sigmoid that overflows": ("def sigmoid_bce_grad_z(z, y):\n"
                                           "    z, y = np.asarray(z, float), np.asarray(y, float)\n"
                                           "    return (1 / (1 + np.exp(-z)) - y) / z.size\n", 0),
        "the 1/n forgotten": ("def sigmoid_bce_grad_z(z, y):\n"
                              "    return activations.sigmoid(np.asarray(z, float)) - np.asarray(y, float)\n", 0),
        "through dL/dp times sigma'(z), numerically": (
            "def sigmoid_bce_grad_z(z, y):\n"
            "    z, y = np.asarray(z, float), np.asarray(y, float)\n"
            "    p = activations.sigmoid(z)\n"
            "    with np.errstate(divide='ignore', invalid='ignore'):\n"
            "        return (p - y) / (p * (1 - p)) * (p * (1 - p)) / z.size\n", 0),
    },
}
