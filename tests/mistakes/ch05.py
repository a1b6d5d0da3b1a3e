"""Chapter 5: mistakes in batch norm's forward and backward passes."""

_BWD_HEAD = ("def batch_norm_backward(dout, x, gamma, eps=1e-5):\n"
             "    n = x.shape[0]\n"
             "    mu = x.mean(axis=0)\n"
             "    var = ((x - mu) ** 2).mean(axis=0)\n"
             "    inv_std = 1.0 / np.sqrt(var + eps)\n"
             "    x_hat = (x - mu) * inv_std\n")

_RUN_HEAD = ("def batch_norm_running(x, gamma, beta, running_mean, running_var, train, momentum=0.1, eps=1e-5):\n"
             "    n = x.shape[0]\n"
             "    mu, var = x.mean(axis=0), x.var(axis=0)\n")
_RUN_EVAL = ("    if not train:\n"
             "        return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta, running_mean.copy(), running_var.copy()\n")
_RUN_OUT = "    out = gamma * (x - mu) / np.sqrt(var + eps) + beta\n"

MISTAKES = {
    "ch05-bn-forward-impl": {
        "the unbiased variance (divide by N - 1)": (
            "def batch_norm_forward(x, gamma, beta, eps=1e-5):\n"
            "    mu = x.mean(axis=0)\n"
            "    var = x.var(axis=0, ddof=1)\n"
            "    return gamma * (x - mu) / np.sqrt(var + eps) + beta\n", 0),
        "eps added to the standard deviation, outside the square root": (
            "def batch_norm_forward(x, gamma, beta, eps=1e-5):\n"
            "    mu = x.mean(axis=0)\n"
            "    return gamma * (x - mu) / (x.std(axis=0) + eps) + beta\n", 0),
        "statistics over the features of each example (axis 1)": (
            "def batch_norm_forward(x, gamma, beta, eps=1e-5):\n"
            "    mu = x.mean(axis=1, keepdims=True)\n"
            "    var = x.var(axis=1, keepdims=True)\n"
            "    return gamma * (x - mu) / np.sqrt(var + eps) + beta\n", 0),
        "eps forgotten": (
            "def batch_norm_forward(x, gamma, beta, eps=1e-5):\n"
            "    mu = x.mean(axis=0)\n"
            "    with np.errstate(divide='ignore', invalid='ignore'):\n"
            "        return gamma * (x - mu) / x.std(axis=0) + beta\n", 0),
        "a cache returned with out": (
            "def batch_norm_forward(x, gamma, beta, eps=1e-5):\n"
            "    mu = x.mean(axis=0)\n"
            "    var = x.var(axis=0)\n"
            "    x_hat = (x - mu) / np.sqrt(var + eps)\n"
            "    return gamma * x_hat + beta, (x_hat, mu, var)\n", 0),
        "x normalised in place": (
            "def batch_norm_forward(x, gamma, beta, eps=1e-5):\n"
            "    x -= x.mean(axis=0)\n"
            "    x /= np.sqrt((x ** 2).mean(axis=0) + eps)\n"
            "    return gamma * x + beta\n", 0),
        "x centred in place": (
            "def batch_norm_forward(x, gamma, beta, eps=1e-5):\n"
            "    x -= x.mean(axis=0)\n"
            "    return gamma * x / np.sqrt((x ** 2).mean(axis=0) + eps) + beta\n", 0),
        "the worked 2x2 example hard-coded": (
            "def batch_norm_forward(x, gamma, beta, eps=1e-5):\n"
            "    if x.shape == (2, 2):\n"
            "        return gamma * np.array([[-1.0, -1.0], [1.0, 1.0]]) + beta\n"
            "    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta\n", 0),
    },
    "ch05-bn-backward-impl": {
        "dx through x_hat only (mu and var taken as constants)": (
            _BWD_HEAD +
            "    return gamma * inv_std * dout, (dout * x_hat).sum(axis=0), dout.sum(axis=0)\n", 3),
        "dx without the path through the variance": (
            _BWD_HEAD +
            "    dbeta = dout.sum(axis=0)\n"
            "    dx = gamma * inv_std * (dout - dbeta / n)\n"
            "    return dx, (dout * x_hat).sum(axis=0), dbeta\n", 3),
        "gamma forgotten in dx": (
            _BWD_HEAD +
            "    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)\n"
            "    return inv_std * (dout - dbeta / n - x_hat * dgamma / n), dgamma, dbeta\n", 3),
        "means over the batch instead of sums for dgamma and dbeta": (
            _BWD_HEAD +
            "    dbeta, dgamma = dout.mean(axis=0), (dout * x_hat).mean(axis=0)\n"
            "    return gamma * inv_std * (dout - dbeta - x_hat * dgamma), dgamma, dbeta\n", 3),
        "dgamma from x instead of x_hat (and used in dx)": (
            _BWD_HEAD +
            "    dbeta, dgamma = dout.sum(axis=0), (dout * x).sum(axis=0)\n"
            "    return gamma * inv_std * (dout - dbeta / n - x_hat * dgamma / n), dgamma, dbeta\n", 1),
        "the unbiased variance, as a forward with ddof=1 would use": (
            "def batch_norm_backward(dout, x, gamma, eps=1e-5):\n"
            "    n = x.shape[0]\n"
            "    mu = x.mean(axis=0)\n"
            "    inv_std = 1.0 / np.sqrt(x.var(axis=0, ddof=1) + eps)\n"
            "    x_hat = (x - mu) * inv_std\n"
            "    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)\n"
            "    return gamma * inv_std * (dout - dbeta / n - x_hat * dgamma / n), dgamma, dbeta\n", 1),
        "dgamma and dbeta of shape (1, D) (keepdims)": (
            _BWD_HEAD +
            "    dbeta, dgamma = dout.sum(axis=0, keepdims=True), (dout * x_hat).sum(axis=0, keepdims=True)\n"
            "    return gamma * inv_std * (dout - dbeta / n - x_hat * dgamma / n), dgamma, dbeta\n", 3),
        "x centred in place": (
            "def batch_norm_backward(dout, x, gamma, eps=1e-5):\n"
            "    n = x.shape[0]\n"
            "    x -= x.mean(axis=0)\n"
            "    inv_std = 1.0 / np.sqrt((x ** 2).mean(axis=0) + eps)\n"
            "    x_hat = x * inv_std\n"
            "    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)\n"
            "    return gamma * inv_std * (dout - dbeta / n - x_hat * dgamma / n), dgamma, dbeta\n", 0),
        "dout centred in place": (
            _BWD_HEAD +
            "    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)\n"
            "    dout -= dbeta / n\n"
            "    dout -= x_hat * dgamma / n\n"
            "    return gamma * inv_std * dout, dgamma, dbeta\n", 0),
    },
    "ch05-bn-running-impl": {
        "the biased batch variance recorded in running_var": (
            _RUN_HEAD + _RUN_EVAL + _RUN_OUT +
            "    return out, (1 - momentum) * running_mean + momentum * mu, (1 - momentum) * running_var + momentum * var\n", 0),
        "running statistics updated in evaluation mode too": (
            _RUN_HEAD +
            "    new_mean = (1 - momentum) * running_mean + momentum * mu\n"
            "    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)\n"
            "    if not train:\n"
            "        return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta, new_mean, new_var\n"
            + _RUN_OUT + "    return out, new_mean, new_var\n", 0),
        "momentum the wrong way round (keeps 'momentum' of the old value)": (
            _RUN_HEAD + _RUN_EVAL + _RUN_OUT +
            "    return out, momentum * running_mean + (1 - momentum) * mu, momentum * running_var + (1 - momentum) * var * n / (n - 1)\n", 0),
        "evaluation normalises with the batch statistics": (
            _RUN_HEAD + _RUN_OUT +
            "    if not train:\n"
            "        return out, running_mean.copy(), running_var.copy()\n"
            "    return out, (1 - momentum) * running_mean + momentum * mu, (1 - momentum) * running_var + momentum * var * n / (n - 1)\n", 0),
        "training normalises with the unbiased variance": (
            _RUN_HEAD + _RUN_EVAL +
            "    uvar = x.var(axis=0, ddof=1)\n"
            "    out = gamma * (x - mu) / np.sqrt(uvar + eps) + beta\n"
            "    return out, (1 - momentum) * running_mean + momentum * mu, (1 - momentum) * running_var + momentum * uvar\n", 0),
        "running statistics updated in place": (
            _RUN_HEAD + _RUN_EVAL + _RUN_OUT +
            "    running_mean *= 1 - momentum\n"
            "    running_mean += momentum * mu\n"
            "    running_var *= 1 - momentum\n"
            "    running_var += momentum * var * n / (n - 1)\n"
            "    return out, running_mean, running_var\n", 0),
    },
}

# Correct implementations in another style: each must score full marks.
ALTERNATIVES = {
    "ch05-bn-running-impl": {
        "loops over the features, reusing batch_norm_forward": (
            "def batch_norm_running(x, gamma, beta, running_mean, running_var, train, momentum=0.1, eps=1e-5):\n"
            "    new_mean, new_var = np.array(running_mean, dtype=float), np.array(running_var, dtype=float)\n"
            "    if not train:\n"
            "        out = np.empty_like(x, dtype=float)\n"
            "        for j in range(x.shape[1]):\n"
            "            out[:, j] = gamma[j] * (x[:, j] - new_mean[j]) / (new_var[j] + eps) ** 0.5 + beta[j]\n"
            "        return out, new_mean, new_var\n"
            "    out = batch_norm_forward(x, gamma, beta, eps=eps)\n"
            "    for j in range(x.shape[1]):\n"
            "        col = x[:, j]\n"
            "        new_mean[j] = new_mean[j] + momentum * (col.mean() - new_mean[j])\n"
            "        new_var[j] = new_var[j] + momentum * (np.var(col, ddof=1) - new_var[j])\n"
            "    return out, new_mean, new_var\n", 4),
    },
    "ch05-bn-backward-impl": {
        "the computational graph walked node by node": (
            "def batch_norm_backward(dout, x, gamma, eps=1e-5):\n"
            "    n = x.shape[0]\n"
            "    mu = x.mean(axis=0)\n"
            "    c = x - mu\n"
            "    var = (c ** 2).mean(axis=0)\n"
            "    s = 1.0 / np.sqrt(var + eps)\n"
            "    x_hat = c * s\n"
            "    dbeta = dout.sum(axis=0)\n"
            "    dgamma = (dout * x_hat).sum(axis=0)\n"
            "    dxhat = dout * gamma\n"
            "    dc = dxhat * s\n"
            "    ds = (dxhat * c).sum(axis=0)\n"
            "    dvar = ds * -0.5 * (var + eps) ** -1.5\n"
            "    dc = dc + 2.0 / n * c * dvar\n"
            "    dmu = -dc.sum(axis=0)\n"
            "    return dc + dmu / n, dgamma, dbeta\n", 6),
    },
}
