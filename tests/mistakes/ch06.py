"""Chapter 6: mistakes in dropout, the L2 penalty's gradient and early stopping."""

MISTAKES = {
    "ch06-dropout-forward-impl": {
        "no 1/(1-p) rescaling": (
            "def dropout_forward(x, p, rng, train=True):\n"
            "    if not train:\n"
            "        return x, np.ones_like(x)\n"
            "    mask = (rng.random(x.shape) >= p).astype(float)\n"
            "    return x * mask, mask\n", 0),
        "kept and dropped inverted (keep where u < p)": (
            "def dropout_forward(x, p, rng, train=True):\n"
            "    if not train:\n"
            "        return x, np.ones_like(x)\n"
            "    mask = (rng.random(x.shape) < p) / (1.0 - p)\n"
            "    return x * mask, mask\n", 0),
        "random numbers drawn at test time too": (
            "def dropout_forward(x, p, rng, train=True):\n"
            "    keep = rng.random(x.shape) >= p\n"
            "    if not train:\n"
            "        return x, np.ones_like(x)\n"
            "    mask = keep / (1.0 - p)\n"
            "    return x * mask, mask\n", 0),
        "classic dropout: no rescaling in training, x * (1 - p) at test time": (
            "def dropout_forward(x, p, rng, train=True):\n"
            "    if not train:\n"
            "        return x * (1 - p), np.full(x.shape, 1.0 - p)\n"
            "    mask = (rng.random(x.shape) >= p).astype(float)\n"
            "    return x * mask, mask\n", 0),
        "the boolean keep mask returned as mask": (
            "def dropout_forward(x, p, rng, train=True):\n"
            "    if not train:\n"
            "        return x, np.ones_like(x)\n"
            "    keep = rng.random(x.shape) >= p\n"
            "    return x * keep / (1.0 - p), keep\n", 0),
        "one coin per example row instead of per unit": (
            "def dropout_forward(x, p, rng, train=True):\n"
            "    if not train:\n"
            "        return x, np.ones_like(x)\n"
            "    keep = rng.random(x.shape[:1] + (1,) * (x.ndim - 1)) >= p\n"
            "    mask = np.broadcast_to(keep / (1.0 - p), x.shape).copy()\n"
            "    return x * mask, mask\n", 0),
        "a binomial draw instead of u = rng.random(x.shape)": (
            "def dropout_forward(x, p, rng, train=True):\n"
            "    if not train:\n"
            "        return x, np.ones_like(x)\n"
            "    mask = rng.binomial(1, 1.0 - p, size=x.shape) / (1.0 - p)\n"
            "    return x * mask, mask\n", 0),
        "x multiplied by the mask in place": (
            "def dropout_forward(x, p, rng, train=True):\n"
            "    if not train:\n"
            "        return x, np.ones_like(x)\n"
            "    mask = (rng.random(x.shape) >= p) / (1.0 - p)\n"
            "    x *= mask\n"
            "    return x, mask\n", 0),
    },
    "ch06-dropout-backward-impl": {
        "the 1/(1-p) scale dropped from the gradient": (
            "def dropout_backward(dout, mask):\n"
            "    return dout * (mask > 0)\n", 0),
        "divided by the mask": (
            "def dropout_backward(dout, mask):\n"
            "    with np.errstate(divide='ignore', invalid='ignore'):\n"
            "        return np.where(mask > 0, dout / mask, 0.0)\n", 0),
        "the mask returned, dout ignored": (
            "def dropout_backward(dout, mask):\n"
            "    return mask.copy()\n", 0),
        "dout multiplied in place": (
            "def dropout_backward(dout, mask):\n"
            "    dout *= mask\n"
            "    return dout\n", 0),
    },
    "ch06-l2-grad-impl": {
        "factor 2 kept (the 1/2 forgotten)": (
            "def l2_penalty_grad(w, weight_decay):\n"
            "    return 2 * weight_decay * w\n", 0),
        "lambda forgotten": (
            "def l2_penalty_grad(w, weight_decay):\n"
            "    return np.array(w, dtype=float)\n", 0),
        "lambda/2 times w, the square not differentiated": (
            "def l2_penalty_grad(w, weight_decay):\n"
            "    return weight_decay / 2 * w\n", 0),
        "the penalty's value instead of its gradient": (
            "def l2_penalty_grad(w, weight_decay):\n"
            "    return weight_decay / 2 * np.sum(w ** 2)\n", 0),
        "L1's gradient, lambda sign(w)": (
            "def l2_penalty_grad(w, weight_decay):\n"
            "    return weight_decay * np.sign(w)\n", 0),
        "w scaled in place": (
            "def l2_penalty_grad(w, weight_decay):\n"
            "    w *= weight_decay\n"
            "    return w\n", 0),
        "the notebook's example hard-coded": (
            "def l2_penalty_grad(w, weight_decay):\n"
            "    if np.array_equal(w, [3.0, -4.0]):\n"
            "        return np.array([0.3, -0.4])\n"
            "    return 2 * weight_decay * w\n", 0),
    },
    "ch06-early-stop-impl": {
        "0-based epochs": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    best, best_epoch, bad = float('inf'), 0, 0\n"
            "    for epoch, loss in enumerate(val_losses):\n"
            "        if loss < best - min_delta:\n"
            "            best, best_epoch, bad = loss, epoch, 0\n"
            "        else:\n"
            "            bad += 1\n"
            "        if bad >= patience:\n"
            "            return best_epoch, epoch\n"
            "    return best_epoch, len(val_losses) - 1\n", 0),
        "ties counted as improvements (<=)": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    best, best_epoch, bad = float('inf'), 0, 0\n"
            "    for epoch, loss in enumerate(val_losses, start=1):\n"
            "        if loss <= best - min_delta:\n"
            "            best, best_epoch, bad = loss, epoch, 0\n"
            "        else:\n"
            "            bad += 1\n"
            "        if bad >= patience:\n"
            "            return best_epoch, epoch\n"
            "    return best_epoch, len(val_losses)\n", 0),
        "min_delta ignored": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    best, best_epoch, bad = float('inf'), 0, 0\n"
            "    for epoch, loss in enumerate(val_losses, start=1):\n"
            "        if loss < best:\n"
            "            best, best_epoch, bad = loss, epoch, 0\n"
            "        else:\n"
            "            bad += 1\n"
            "        if bad >= patience:\n"
            "            return best_epoch, epoch\n"
            "    return best_epoch, len(val_losses)\n", 0),
        "stops one epoch late (count > patience)": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    best, best_epoch, bad = float('inf'), 0, 0\n"
            "    for epoch, loss in enumerate(val_losses, start=1):\n"
            "        if loss < best - min_delta:\n"
            "            best, best_epoch, bad = loss, epoch, 0\n"
            "        else:\n"
            "            bad += 1\n"
            "        if bad > patience:\n"
            "            return best_epoch, epoch\n"
            "    return best_epoch, len(val_losses)\n", 0),
        "min_delta compared with the previous epoch, not the best": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    prev, best_epoch, bad = float('inf'), 0, 0\n"
            "    for epoch, loss in enumerate(val_losses, start=1):\n"
            "        if loss < prev - min_delta:\n"
            "            best_epoch, bad = epoch, 0\n"
            "        else:\n"
            "            bad += 1\n"
            "        prev = loss\n"
            "        if bad >= patience:\n"
            "            return best_epoch, epoch\n"
            "    return best_epoch, len(val_losses)\n", 0),
        "best_epoch as the argmin, ignoring min_delta": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    best, best_epoch, bad = float('inf'), 0, 0\n"
            "    stop = len(val_losses)\n"
            "    for epoch, loss in enumerate(val_losses, start=1):\n"
            "        if loss < best - min_delta:\n"
            "            best, best_epoch, bad = loss, epoch, 0\n"
            "        else:\n"
            "            bad += 1\n"
            "        if bad >= patience:\n"
            "            stop = epoch\n"
            "            break\n"
            "    return int(np.argmin(val_losses[:stop])) + 1, stop\n", 0),
        "stop_epoch = best_epoch + patience, not capped at the last epoch": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    best, best_epoch = float('inf'), 0\n"
            "    for epoch, loss in enumerate(val_losses, start=1):\n"
            "        if loss < best - min_delta:\n"
            "            best, best_epoch = loss, epoch\n"
            "        elif epoch - best_epoch >= patience:\n"
            "            break\n"
            "    return best_epoch, best_epoch + patience\n", 0),
        "epochs counted with a float counter": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    best, best_epoch, bad, epoch = float('inf'), 0.0, 0, 0.0\n"
            "    for loss in val_losses:\n"
            "        epoch += 1.0\n"
            "        if loss < best - min_delta:\n"
            "            best, best_epoch, bad = loss, epoch, 0\n"
            "        else:\n"
            "            bad += 1\n"
            "        if bad >= patience:\n"
            "            return best_epoch, epoch\n"
            "    return best_epoch, float(len(val_losses))\n", 0),
        "the notebook's example hard-coded": (
            "def early_stop(val_losses, patience, min_delta=0.0):\n"
            "    if list(val_losses) == [1.0, 0.5, 0.6, 0.7] and patience == 2:\n"
            "        return 2, 4\n"
            "    best_epoch = int(np.argmin(val_losses)) + 1\n"
            "    return best_epoch, min(best_epoch + patience, len(val_losses))\n", 0),
    },
}
