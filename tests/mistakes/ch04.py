"""Chapter 4: mistakes in the five optimizer steps (momentum, Nesterov, Adagrad, RMSprop, Adam)."""

MISTAKES = {
    "ch04-sgd_momentum_step-impl": {
        "the notes form, v <- mu v - lr g stored as the buffer": (
            "def sgd_momentum_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    v = momentum * state.get('buf', np.zeros_like(g)) - lr * g\n"
            "    return np.asarray(w, dtype=np.float64) + v, {'buf': v}\n", 0),
        "dampened buffer, b <- mu b + (1 - mu) g": (
            "def sgd_momentum_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    buf = g.copy() if 'buf' not in state else momentum * state['buf'] + (1 - momentum) * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * buf, {'buf': buf}\n", 0),
        "w updated with the old buffer": (
            "def sgd_momentum_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    old = state.get('buf', g)\n"
            "    buf = g.copy() if 'buf' not in state else momentum * state['buf'] + g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * old, {'buf': buf}\n", 0),
        "w and the state mutated in place": (
            "def sgd_momentum_step(w, g, state, lr, momentum):\n"
            "    if 'buf' not in state:\n"
            "        state['buf'] = np.array(g, dtype=np.float64)\n"
            "    else:\n"
            "        state['buf'] *= momentum\n"
            "        state['buf'] += g\n"
            "    w -= lr * state['buf']\n"
            "    return w, state\n", 0),
        "torch's key name momentum_buffer instead of buf": (
            "def sgd_momentum_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    buf = g.copy() if 'momentum_buffer' not in state else momentum * state['momentum_buffer'] + g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * buf, {'momentum_buffer': buf}\n", 0),
    },
    "ch04-nesterov_step-impl": {
        "plain heavy-ball momentum, no look-ahead": (
            "def nesterov_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    buf = g.copy() if 'buf' not in state else momentum * state['buf'] + g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * buf, {'buf': buf}\n", 0),
        "look-ahead with the old buffer": (
            "def nesterov_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    old = state.get('buf', np.zeros_like(g))\n"
            "    buf = g.copy() if 'buf' not in state else momentum * old + g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * (g + momentum * old), {'buf': buf}\n", 0),
        "cs231n's form, v <- mu v - lr g stored as the buffer": (
            "def nesterov_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    v_prev = state.get('buf', np.zeros_like(g))\n"
            "    v = momentum * v_prev - lr * g\n"
            "    if 'buf' not in state:\n"
            "        v = -lr * g\n"
            "    return np.asarray(w, dtype=np.float64) - momentum * v_prev + (1 + momentum) * v, {'buf': v}\n", 0),
        "the buffer returned bare instead of in a dict": (
            "def nesterov_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    buf = g.copy() if 'buf' not in state else momentum * state['buf'] + g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * (g + momentum * buf), buf\n", 0),
        "the buffer updated in place": (
            "def nesterov_step(w, g, state, lr, momentum):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    if 'buf' in state:\n"
            "        buf = state['buf']\n"
            "        buf *= momentum\n"
            "        buf += g\n"
            "    else:\n"
            "        buf = g.copy()\n"
            "    return np.asarray(w, dtype=np.float64) - lr * (g + momentum * buf), {'buf': buf}\n", 0),
    },
    "ch04-adagrad_step-impl": {
        "eps inside the square root": (
            "def adagrad_step(w, g, state, lr, eps=1e-10):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    r = state.get('sum_sq', np.zeros_like(g)) + g * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g / np.sqrt(r + eps), {'sum_sq': r}\n", 0),
        "no accumulation, r = g**2 of this step only": (
            "def adagrad_step(w, g, state, lr, eps=1e-10):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    r = g * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g / (np.sqrt(r) + eps), {'sum_sq': r}\n", 0),
        "torch's key name sum instead of sum_sq": (
            "def adagrad_step(w, g, state, lr, eps=1e-10):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    r = state.get('sum', np.zeros_like(g)) + g * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g / (np.sqrt(r) + eps), {'sum': r}\n", 0),
        "the state's array accumulated in place": (
            "def adagrad_step(w, g, state, lr, eps=1e-10):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    if 'sum_sq' in state:\n"
            "        r = state['sum_sq']\n"
            "        r += g * g\n"
            "    else:\n"
            "        r = g * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g / (np.sqrt(r) + eps), {'sum_sq': r}\n", 0),
        "the gradient scaled in place": (
            "def adagrad_step(w, g, state, lr, eps=1e-10):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    r = state.get('sum_sq', np.zeros_like(g)) + g * g\n"
            "    g /= np.sqrt(r) + eps\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g, {'sum_sq': r}\n", 0),
    },
    "ch04-rmsprop_step-impl": {
        "eps inside the square root": (
            "def rmsprop_step(w, g, state, lr, alpha=0.99, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    r = alpha * state.get('square_avg', np.zeros_like(g)) + (1 - alpha) * g * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g / np.sqrt(r + eps), {'square_avg': r}\n", 0),
        "alpha and 1 - alpha swapped": (
            "def rmsprop_step(w, g, state, lr, alpha=0.99, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    r = (1 - alpha) * state.get('square_avg', np.zeros_like(g)) + alpha * g * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g / (np.sqrt(r) + eps), {'square_avg': r}\n", 0),
        "r started at g**2 instead of 0": (
            "def rmsprop_step(w, g, state, lr, alpha=0.99, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    r = alpha * state['square_avg'] + (1 - alpha) * g * g if 'square_avg' in state else g * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g / (np.sqrt(r) + eps), {'square_avg': r}\n", 0),
        "the state mutated in place": (
            "def rmsprop_step(w, g, state, lr, alpha=0.99, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    r = state.setdefault('square_avg', np.zeros_like(g))\n"
            "    r *= alpha\n"
            "    r += (1 - alpha) * g * g\n"
            "    return np.asarray(w, dtype=np.float64) - lr * g / (np.sqrt(r) + eps), state\n", 0),
    },
    "ch04-adam_step-impl": {
        "no bias correction": (
            "def adam_step(w, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    t = state.get('step', 0) + 1\n"
            "    m = beta1 * state.get('exp_avg', np.zeros_like(g)) + (1 - beta1) * g\n"
            "    v = beta2 * state.get('exp_avg_sq', np.zeros_like(g)) + (1 - beta2) * g * g\n"
            "    w_new = np.asarray(w, dtype=np.float64) - lr * m / (np.sqrt(v) + eps)\n"
            "    return w_new, {'step': t, 'exp_avg': m, 'exp_avg_sq': v}\n", 0),
        "t counted from 1 before the increment, so the first step uses t = 2": (
            "def adam_step(w, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    t = state.get('step', 1) + 1\n"
            "    m = beta1 * state.get('exp_avg', np.zeros_like(g)) + (1 - beta1) * g\n"
            "    v = beta2 * state.get('exp_avg_sq', np.zeros_like(g)) + (1 - beta2) * g * g\n"
            "    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)\n"
            "    w_new = np.asarray(w, dtype=np.float64) - lr * m_hat / (np.sqrt(v_hat) + eps)\n"
            "    return w_new, {'step': t, 'exp_avg': m, 'exp_avg_sq': v}\n", 0),
        "the bias-corrected m_hat, v_hat stored as the state": (
            "def adam_step(w, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    t = state.get('step', 0) + 1\n"
            "    m = beta1 * state.get('exp_avg', np.zeros_like(g)) + (1 - beta1) * g\n"
            "    v = beta2 * state.get('exp_avg_sq', np.zeros_like(g)) + (1 - beta2) * g * g\n"
            "    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)\n"
            "    w_new = np.asarray(w, dtype=np.float64) - lr * m_hat / (np.sqrt(v_hat) + eps)\n"
            "    return w_new, {'step': t, 'exp_avg': m_hat, 'exp_avg_sq': v_hat}\n", 0),
        "eps inside the square root": (
            "def adam_step(w, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    t = state.get('step', 0) + 1\n"
            "    m = beta1 * state.get('exp_avg', np.zeros_like(g)) + (1 - beta1) * g\n"
            "    v = beta2 * state.get('exp_avg_sq', np.zeros_like(g)) + (1 - beta2) * g * g\n"
            "    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)\n"
            "    w_new = np.asarray(w, dtype=np.float64) - lr * m_hat / np.sqrt(v_hat + eps)\n"
            "    return w_new, {'step': t, 'exp_avg': m, 'exp_avg_sq': v}\n", 0),
        "the state updated in place": (
            "def adam_step(w, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    g = np.asarray(g, dtype=np.float64)\n"
            "    state['step'] = state.get('step', 0) + 1\n"
            "    state['exp_avg'] = beta1 * state.get('exp_avg', np.zeros_like(g)) + (1 - beta1) * g\n"
            "    state['exp_avg_sq'] = beta2 * state.get('exp_avg_sq', np.zeros_like(g)) + (1 - beta2) * g * g\n"
            "    t = state['step']\n"
            "    m_hat = state['exp_avg'] / (1 - beta1 ** t)\n"
            "    v_hat = state['exp_avg_sq'] / (1 - beta2 ** t)\n"
            "    return np.asarray(w, dtype=np.float64) - lr * m_hat / (np.sqrt(v_hat) + eps), state\n", 0),
    },
}
