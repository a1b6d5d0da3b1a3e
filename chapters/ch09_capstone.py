# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown]
# # Chapter 9 — Capstone: a CNN made only of your code, trained on the digits
#
# Chapters 2–8 had you write a network's parts one at a time: the affine layer, softmax
# cross-entropy (交叉熵), ReLU, an optimizer step with momentum (动量), convolution (卷积), max
# pooling (最大池化) and the error term δ (残差) flowing back through each of them. Here they become
# one network — chapter 7's small CNN — and you train it on the real handwritten digits with
# nothing but your own functions. The grader compares your network with `dlcore`'s at every layer,
# so when something is off you learn exactly where.
#
# **After this chapter you can**
# 1. compose layers into a forward pass and their backward passes into backpropagation
#    (反向传播), keeping each layer's error term δ;
# 2. check a whole network's gradient numerically, not just one layer's;
# 3. write a convolution fast enough to train with, by looping over the kernel instead of the image;
# 4. train a CNN with your own optimizer step and read its training curve.
#
# **Prerequisites**: chapters 2–8, with their exercises solved in your own copy of the course
# (this notebook brings your code over; section 2).

# %% nbgrader={"grade": false, "grade_id": "ch09-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import time
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
from dlcore import conv, pooling
from dlcore.explorers import ch09
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. What you will train
#
# This is the run you will reproduce with your own code: chapter 7's small CNN trained on the
# digits for 120 steps (section 6 gives the recipe). Move the step slider through it: the batch
# loss, the accuracy on 269 test digits the network never trains on, and its 8 convolution
# kernels at that step. The kernels start as random 3×3 patches; "change since step 0" shows how
# far each weight has moved. It is `dlcore`'s network, so it works before you have written
# anything; at the end of the chapter your own training curve is drawn on top of this one.

# %%
ch09.training_explorer()

# %% [markdown]
# ## 2. Your own code, carried into this notebook
#
# Each chapter notebook is graded on its own, so this one must hold every function it uses. You
# do not retype them: `carry` reads your saved chapter notebooks next to this one (in `make
# lab`'s `workspace/`, or the assignments you fetched), finds the answer cell that defines each
# name, and **replaces the cell below with that code** — like IPython's `%load` — then runs it.
# Save the notebook afterwards: the code is now part of it, and it is what you submit.
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers none of its functions
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add. That is why the cell below must
# hold your code itself, not the `carry(...)` call: the grader has only this notebook.
#
# * Run the cell once. It becomes a long cell of your own functions, each under a line saying
#   which chapter and exercise it came from.
# * A function that is still an exercise's stub is refused, with the chapter to finish first.
# * Changed a chapter since? Put the `carry(...)` lines back in the cell and run it again.
#
# The list: your gradient checker and affine layer (chapter 2), cross-entropy and its gradient
# (chapter 2), ReLU's derivative (chapter 3), the momentum step (chapter 4), convolution and max
# pooling (chapter 7), and the backward passes of max pooling and convolution (chapter 8).

# %% nbgrader={"grade": false, "grade_id": "ch09-carry-impl", "locked": false, "schema_version": 3, "solution": true, "task": false} dlcourse={"carry": true}
from dlcore.workspace import carry
carry("eval_numerical_gradient", "rel_error", "affine_forward", "affine_backward", "cross_entropy",
      "cross_entropy_grad", "relu_grad", "sgd_momentum_step", "conv2d_forward", "max_pool2d_forward",
      "max_pool2d_backward", "conv2d_backward")

# %% [markdown]
# ## 3. The network, and a convolution fast enough to train
#
# The network is chapter 7's, layer for layer, with its 1,370 parameters in a dict:
#
# | layer | output shape (batch of N) | parameters |
# |---|---|---|
# | input: the digits, 8×8 grey images | (N, 1, 8, 8) | |
# | convolution, 8 kernels 3×3, padding 1 | (N, 8, 8, 8) | `conv_w` (8, 1, 3, 3), `conv_b` (8,) |
# | ReLU | (N, 8, 8, 8) | |
# | max pooling 2×2 | (N, 8, 4, 4) | |
# | flatten, then affine 128 → 10 | (N, 10) logits | `fc_w` (10, 128), `fc_b` (10,) |
# | softmax cross-entropy with the labels | a number, the mean loss | |
#
# Your chapter-7 convolution loops over every image, kernel and output pixel: 8·8·8 = 512 small
# sums for each digit. Training visits 1,259 digits three times, and every step also runs the
# backward pass, so those loops would make training take minutes. The same sums can be grouped
# the other way round: for each of the K·K kernel offsets (u, v), **one** array operation
# multiplies the whole shifted input by the kernel's weights at (u, v) and adds it to the output:
#
# $$z[n,f,i,j] = b[f] + \sum_{u,v}\; \sum_c x_{pad}[n,c,i+u,j+v]\; w[f,c,u,v]
# \quad\Longrightarrow\quad z \mathrel{+}= \texttt{einsum("nchw,fc->nfhw", } x_{pad}[:,:,u:u+H_{out},\,v:v+W_{out}],\ w[:,:,u,v]\texttt{)}.$$
#
# Nine array operations for a 3×3 kernel instead of a loop over every pixel. The cell below times
# your chapter-7 convolution on one batch of 32 digits; after Exercise 1 it times yours too.

# %%
split = ch09.digits_split()           # chapter 7's split: 1,259 training, 269 validation, 269 test digits
params0 = ch09.init_params(0)         # chapter 7's initial weights (seed 0), as a dict of arrays
print({name: p.shape for name, p in params0.items()}, "->", sum(p.size for p in params0.values()), "parameters")
xb = split.X_train[:32]
for name in ("conv2d_forward", "conv2d_forward_fast"):
    fn = globals().get(name)
    if fn is None:
        print(f"{name}: not defined yet")
        continue
    try:
        t0 = time.perf_counter()
        fn(xb, params0["conv_w"], params0["conv_b"], padding=1)
        print(f"{name}: {1000 * (time.perf_counter() - t0):.1f} ms for a batch of 32")
    except NotImplementedError:
        print(f"{name}: still the exercise's stub")


# %% [markdown] nbgrader={"grade": false, "grade_id": "ch09-fastconv-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ### Exercise 1 — `conv2d_forward_fast` (2 points)
#
# Write a stride-1 convolution (cross-correlation, the kernel not flipped, as in chapter 7) with
# zero padding `padding` that loops only over the kernel offsets (u, v) and does the rest with one
# array operation each (`np.einsum` or `np.tensordot`). It must give exactly what your chapter-7
# `conv2d_forward(x, w, b, 1, padding)` gives, for any N, C, F, kernel size (KH and KW may
# differ) and padding. Do not call `dlcore.conv` (nor your chapter-7 loops, which would be as slow
# as before).
#

# %% nbgrader={"grade": false, "grade_id": "ch09-fastconv-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d_forward_fast(x, w, b, padding=0):
    """Stride-1 convolution with a loop over the kernel offsets only.

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,) or None; padding: int.
    Returns out: (N, F, H + 2*padding - KH + 1, W + 2*padding - KW + 1); x and w unchanged.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out, W_out = H + 2 * padding - KH + 1, W + 2 * padding - KW + 1
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for u in range(KH):
        for v in range(KW):
            out += np.einsum("nchw,fc->nfhw", xp[:, :, u:u + H_out, v:v + W_out], w[:, :, u, v])
    if b is not None:
        out += np.asarray(b)[None, :, None, None]
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch09-fastconv-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import conv
from dlcore.testing import check_close, check_shape, run_student
refs = (conv.conv2d_forward, conv.conv2d_forward_loops)
# a 3×3 kernel of ones sums each window (then + 0.5)
x = np.arange(16.0).reshape(1, 1, 4, 4)
got = run_student(conv2d_forward_fast, x, np.ones((1, 1, 3, 3)), np.array([0.5]), forbid=refs)
check_shape(got, (1, 1, 2, 2), "conv2d_forward_fast on a 4×4 input with a 3×3 kernel, no padding")
check_close(got, [[[[45.5, 54.5], [81.5, 90.5]]]], "each output is its window's sum plus the bias 0.5")
# the capstone's shapes, compared with dlcore
rng = np.random.default_rng(90)
x = rng.normal(size=(4, 3, 8, 8)); w = rng.normal(size=(5, 3, 3, 3)); b = rng.normal(size=5)
check_close(run_student(conv2d_forward_fast, x, w, b, 1, forbid=refs), conv.conv2d_forward(x, w, b, padding=1)[0],
            "conv2d_forward_fast with padding=1 compared with dlcore")
### BEGIN HIDDEN TESTS
for seed in range(5):
    g = np.random.default_rng(900 + seed)
    kh, kw, pad = int(g.integers(1, 5)), int(g.integers(1, 5)), int(g.integers(0, 3))
    shape = (int(g.integers(1, 4)), int(g.integers(1, 4)), int(g.integers(kh, 9)), int(g.integers(kw, 9)))
    xs, ws, bs = g.normal(size=shape), g.normal(size=(int(g.integers(1, 5)), shape[1], kh, kw)), None
    if seed % 2:
        bs = g.normal(size=ws.shape[0])
    keep = xs.copy(), ws.copy()
    check_close(run_student(conv2d_forward_fast, xs, ws, bs, pad, forbid=refs), conv.conv2d_forward(xs, ws, bs, padding=pad)[0],
                f"conv2d_forward_fast on x{shape}, a {kh}×{kw} kernel, padding {pad}" + ("" if bs is not None else ", no bias"))
    check_close(xs, keep[0], "x must be left unchanged")
    check_close(ws, keep[1], "w must be left unchanged")
### END HIDDEN TESTS

# %% [markdown]
# Run the timing cell above again: the same batch through your fast convolution. (The backward
# pass you wrote in chapter 8 already loops over kernel offsets and the padded image, not over
# every image and kernel, so it is fast enough as it is.)
#
# ## 4. Forward and backward through the whole network, keeping every δ
#
# The forward pass is the table of section 3 read downwards; backpropagation reads it upwards,
# and each layer hands the error term δ (残差) at its input to the layer before it, as chapter 8
# did for one layer at a time:
#
# 1. **softmax cross-entropy**: δ at the logits = `cross_entropy_grad(logits, y)` — already
#    divided by N, because the loss is the batch's mean;
# 2. **affine**: `affine_backward(δ_logits, flat, fc_w)` gives δ at its input (then reshaped
#    back to the pooling output's shape (N, 8, 4, 4)) and the gradients of `fc_w` and `fc_b`;
# 3. **max pooling**: `max_pool2d_backward(δ_pool, a, 2)` routes each δ to its window's maximum
#    (δ at the ReLU output; three of every four entries are 0);
# 4. **ReLU**: δ at the convolution output = δ at the ReLU output × `relu_grad(z)`, with z the
#    convolution's output (ReLU's *input*);
# 5. **convolution**: `conv2d_backward(δ_conv, x, conv_w, 1)` gives the gradients of `conv_w` and
#    `conv_b` (its δ at the input image is not needed: nothing comes before it).
#
# The grader compares your δ at each of these points with `dlcore`'s, in this order, and tells
# you the **first** layer where yours differs: everything before it is right, so that is where to
# look.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch09-network-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ### Exercise 2 — `cnn_forward_backward` (5 points: the loss 1, every δ and gradient 3, a whole-network gradient check 1)
#
# Write the forward and backward pass of the network of section 3 from your own functions:
# `conv2d_forward_fast` (padding 1), ReLU (`np.maximum(z, 0)`), your `max_pool2d_forward`
# (2×2), flatten (`reshape(N, -1)`, so the 128 inputs of the affine layer are ordered channel,
# row, column), your `affine_forward`, your `cross_entropy`; then backward through
# `cross_entropy_grad`, `affine_backward`, `max_pool2d_backward`, `relu_grad`, `conv2d_backward`.
# Return the loss, the gradients of the four parameters, and the error terms δ at the four points
# of section 4. Do not call `dlcore` (the grader's copy of it lacks these layers).
#

# %% nbgrader={"grade": false, "grade_id": "ch09-network-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cnn_forward_backward(params, x, y):
    """Loss, gradients and error terms of the capstone CNN on one batch.

    params: dict with "conv_w" (8, 1, 3, 3), "conv_b" (8,), "fc_w" (10, 128), "fc_b" (10,).
    x: (N, 1, 8, 8) images; y: (N,) integer labels 0-9. params and x are left unchanged.
    Returns (loss, grads, deltas):
      loss   – a float, the mean softmax cross-entropy of the batch;
      grads  – dict with the same keys and shapes as params;
      deltas – dict of the error terms δ = ∂loss/∂(that layer's output):
               "logits" (N, 10), "pool" (N, 8, 4, 4) at the pooling output,
               "relu" (N, 8, 8, 8) at the ReLU output, "conv" (N, 8, 8, 8) at the convolution output.
    """
    ### BEGIN SOLUTION
    n = len(x)
    z = conv2d_forward_fast(x, params["conv_w"], params["conv_b"], padding=1)
    a = np.maximum(z, 0.0)
    p = max_pool2d_forward(a, 2)
    flat = p.reshape(n, -1)
    logits = affine_forward(flat, params["fc_w"], params["fc_b"])
    loss = cross_entropy(logits, y)
    d_logits = cross_entropy_grad(logits, y)
    d_flat, d_fc_w, d_fc_b = affine_backward(d_logits, flat, params["fc_w"])
    d_pool = d_flat.reshape(p.shape)
    d_relu = max_pool2d_backward(d_pool, a, 2)
    d_conv = d_relu * relu_grad(z)
    _, d_conv_w, d_conv_b = conv2d_backward(d_conv, x, params["conv_w"], 1)
    grads = {"conv_w": d_conv_w, "conv_b": d_conv_b, "fc_w": d_fc_w, "fc_b": d_fc_b}
    return loss, grads, {"logits": d_logits, "pool": d_pool, "relu": d_relu, "conv": d_conv}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch09-network-test", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import conv, linear, losses, pooling
from dlcore.chapters import ch09 as reference
from dlcore.testing import check_close, part, run_student
refs = (conv.conv2d_forward, conv.conv2d_backward, pooling.max_pool2d_forward, pooling.max_pool2d_backward,
        linear.linear_forward, linear.linear_backward, losses.cross_entropy, losses.cross_entropy_grad,
        reference.forward_backward)
split = reference.digits_split()
params = reference.init_params(0)
x, y = split.X_train[:16], split.y_train[:16]
with part(1, "the loss of a batch"):
    res = run_student(cnn_forward_backward, params, x, y, forbid=refs)
    assert isinstance(res, tuple) and len(res) == 3, f"cnn_forward_backward must return (loss, grads, deltas), got {type(res)}"
    check_close(res[0], reference.forward_backward(params, x, y)[0], "the loss of 16 training digits")
with part(3, "every error term δ and gradient, layer by layer (backprop's order)"):
    loss, grads, deltas = run_student(cnn_forward_backward, params, x, y, forbid=refs)
    first = reference.first_difference(loss, grads, deltas, params, x, y)
    assert first is None, f"on 16 training digits, the first layer whose result differs from dlcore's is {first}"
with part(1, "a gradient check of the whole network"):
    # the slope of your loss along a random direction v of all 1,370 parameters, by central
    # differences, against what your gradients say it is: Σ grads · v
    loss, grads, _ = run_student(cnn_forward_backward, params, x, y, forbid=refs)
    rng = np.random.default_rng(92)
    for k in range(2):
        v = {name: rng.normal(size=p.shape) for name, p in params.items()}
        h = 1e-5
        up = run_student(cnn_forward_backward, {n: params[n] + h * v[n] for n in params}, x, y, forbid=refs)[0]
        down = run_student(cnn_forward_backward, {n: params[n] - h * v[n] for n in params}, x, y, forbid=refs)[0]
        slope = sum(float(np.sum(grads[n] * v[n])) for n in params)
        check_close(slope, (up - down) / (2 * h), f"Σ grads·v along random direction {k + 1} against central differences of your loss", rtol=1e-5, atol=1e-8)
### BEGIN HIDDEN TESTS
for seed, n in ((93, 1), (94, 7)):
    g = np.random.default_rng(seed)
    pr = {name: g.normal(scale=0.3, size=shape) for name, shape in reference.PARAMS.items()}
    idx = g.choice(len(split.X_train), size=n, replace=False)
    xs, ys = split.X_train[idx], split.y_train[idx]
    keep = {name: a.copy() for name, a in pr.items()}, xs.copy()
    with part(1, "the loss of a batch"):
        check_close(run_student(cnn_forward_backward, pr, xs, ys, forbid=refs)[0], reference.forward_backward(pr, xs, ys)[0],
                    f"the loss with other weights, a batch of {n}")
    with part(3, "every error term δ and gradient, layer by layer (backprop's order)"):
        loss, grads, deltas = run_student(cnn_forward_backward, pr, xs, ys, forbid=refs)
        first = reference.first_difference(loss, grads, deltas, pr, xs, ys)
        assert first is None, f"with other weights and a batch of {n}, the first layer that differs from dlcore's is {first}"
        for name in pr:
            check_close(pr[name], keep[0][name], f"params[{name!r}] must be left unchanged")
        check_close(xs, keep[1], "x must be left unchanged")
### END HIDDEN TESTS

# %% [markdown]
# A gradient check of the whole network with **your** chapter-2 checker: 1,370 parameters would
# take 2,740 forward passes, so check a few entries of each parameter instead — if every layer
# is right, each relative error is below about 10⁻⁷.

# %%
try:
    loss, grads, deltas = cnn_forward_backward(params0, xb, split.y_train[:32])
    for name in params0:
        flat_index = np.random.default_rng(0).choice(params0[name].size, size=min(5, params0[name].size), replace=False)
        def loss_of(entries, name=name, flat_index=flat_index):
            p = {k: v.copy() for k, v in params0.items()}
            p[name].reshape(-1)[flat_index] = entries
            return cnn_forward_backward(p, xb, split.y_train[:32])[0]
        numeric = eval_numerical_gradient(loss_of, params0[name].reshape(-1)[flat_index].copy())
        print(f"{name:7s} relative error of 5 entries: {rel_error(grads[name].reshape(-1)[flat_index], numeric):.2e}")
except NotImplementedError as exc:
    print("not yet:", exc)


# %% [markdown]
# ## 5. One training step
#
# A training step is the forward-backward pass on one batch followed by one optimizer step for
# every parameter. Each parameter has its own momentum buffer (chapter 4's `state`), so the state
# of the whole network is a dict of those states, one per parameter name.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch09-step-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ### Exercise 3 — `train_step` (2 points)
#
# Write one SGD-with-momentum step of the whole network: `cnn_forward_backward` on the batch,
# then your chapter-4 `sgd_momentum_step` on each of the four parameters with its own state.
# `state` is `{}` before the first step; afterwards it is what your previous `train_step`
# returned, `{name: that parameter's sgd_momentum_step state}`. Return the loss computed
# **before** the update. Leave `params` and `state` unchanged (return new ones).
#

# %% nbgrader={"grade": false, "grade_id": "ch09-step-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_step(params, state, x, y, lr, momentum):
    """One step of SGD with momentum on every parameter of the capstone CNN.

    params: dict of the four parameter arrays; state: {} or {name: {"buf": array}} from the last step.
    x, y: one batch. lr, momentum: floats.
    Returns (new_params, new_state, loss) with loss the batch's loss before the step.
    """
    ### BEGIN SOLUTION
    loss, grads, _ = cnn_forward_backward(params, x, y)
    new_params, new_state = {}, {}
    for name in params:
        new_params[name], new_state[name] = sgd_momentum_step(params[name], grads[name], state.get(name, {}), lr, momentum)
    return new_params, new_state, loss
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch09-step-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.chapters import ch09 as reference
from dlcore.testing import check_close, run_student


def check_steps(p, batches, lr, momentum, what):
    """Your train_step, step after step, against the same steps by dlcore."""
    state, mine = {}, {k: v.copy() for k, v in p.items()}
    want, bufs = {k: v.copy() for k, v in p.items()}, {}
    for t, (xs, ys) in enumerate(batches, start=1):
        res = run_student(train_step, mine, state, xs, ys, lr, momentum)
        assert isinstance(res, tuple) and len(res) == 3, f"train_step must return (new_params, new_state, loss), got {type(res)}"
        new, state, loss = res
        ref_loss, grads, _ = reference.forward_backward(want, xs, ys)
        check_close(loss, ref_loss, f"{what}: the loss returned by step {t} (before its update)")
        for k in want:
            bufs[k] = grads[k] if k not in bufs else momentum * bufs[k] + grads[k]
            want[k] = want[k] - lr * bufs[k]
        for k in ("conv_w", "conv_b", "fc_w", "fc_b"):  # the network's order, input to output
            check_close(new[k], want[k], f"{what}: {k} after step {t} (SGD, lr={lr}, momentum={momentum})")
        mine = new


split = reference.digits_split()
params = reference.init_params(0)
check_steps(params, [(split.X_train[i:i + 8], split.y_train[i:i + 8]) for i in (0, 8, 16)], 0.1, 0.9,
            "three steps on batches of 8")
### BEGIN HIDDEN TESTS
check_steps(params, [(split.X_train[i:i + 1], split.y_train[i:i + 1]) for i in (40, 41)], 0.03, 0.5,
            "two steps on batches of one digit, other lr and momentum")
given = {k: v.copy() for k, v in params.items()}
run_student(train_step, given, {}, split.X_train[:4], split.y_train[:4], 0.1, 0.9)
for k in params:
    check_close(given[k], params[k], f"the params passed to train_step ({k!r}) must be left unchanged")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Training on the digits
#
# The recipe (the same for you and for the reference, so the two runs can be compared step by
# step): start from `init_params(0)`; for each of **3 epochs** visit the 1,259 training digits in
# the order `rng.permutation(1259)` drawn anew each epoch, in consecutive batches of **32** (the
# last batch of an epoch holds the 11 left over), one `train_step` per batch with **lr = 0.1,
# momentum μ = 0.9**; record each batch's loss. That is 3 × 40 = 120 steps. The reference
# network, trained this way, classifies **92.9 %** of the 269 test digits (13.0 % before
# training); it passes 90 % at step 55.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch09-train-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ### Exercise 4 — `train_cnn` (3 points: test accuracy at least 90 % 2, the loss curve follows the recipe 1)
#
# Write the training loop of the recipe with your `train_step`: for each epoch, `order =
# rng.permutation(len(X))`, then batches `order[i:i + batch_size]` for i = 0, batch_size, …;
# return the trained parameters and the array of every batch's loss (one per step, in order). The
# grader trains your network with the recipe and measures the accuracy of **your** trained weights
# on the test digits, which your network never saw (it runs them through dlcore's forward pass, so
# the number cannot come from your code); at least 90 % earns 2 points. Your 120 losses must match
# the reference run's, step for step, for the last point. Leave `params` unchanged.
#

# %% nbgrader={"grade": false, "grade_id": "ch09-train-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_cnn(params, X, y, epochs, lr, momentum, batch_size, rng):
    """Train the capstone CNN with SGD and momentum.

    params: the initial parameters (dict); X: (N, 1, 8, 8); y: (N,) labels; epochs, batch_size: ints;
    lr, momentum: floats; rng: np.random.Generator (one permutation per epoch).
    Returns (trained_params, losses) with losses a float array, one loss per step.
    """
    ### BEGIN SOLUTION
    state, out = {}, []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for i in range(0, len(X), batch_size):
            batch = order[i:i + batch_size]
            params, state, loss = train_step(params, state, X[batch], y[batch], lr, momentum)
            out.append(loss)
    return params, np.array(out)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch09-train-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.chapters import ch09 as reference
from dlcore.testing import check_close, check_shape, part, run_student
split = reference.digits_split()
recipe = reference.RECIPE
with part(2, "test accuracy of your trained network at least 90 %"):
    trained, your_losses = run_student(train_cnn, reference.init_params(recipe["seed"]), split.X_train, split.y_train,
                                       recipe["epochs"], recipe["lr"], recipe["momentum"], recipe["batch_size"],
                                       np.random.default_rng(recipe["seed"]))
    acc = reference.accuracy(trained, split.X_test, split.y_test)
    assert acc >= 0.9, (f"your trained weights classify {100 * acc:.1f} % of the 269 test digits; at least 90 % is asked "
                        "(the reference reaches 92.9 %)")
with part(1, "the loss curve follows the recipe"):
    check_shape(your_losses, (120,), "the losses of 3 epochs of 40 steps")
    check_close(your_losses, reference.reference_run(recipe["seed"])["losses"], "your 120 batch losses against the reference run's")
### BEGIN HIDDEN TESTS
with part(1, "the loss curve follows the recipe"):
    small = split.X_train[:90], split.y_train[:90]
    p0 = reference.init_params(3)
    _, short = run_student(train_cnn, p0, *small, 2, 0.05, 0.5, 40, np.random.default_rng(5))
    want = reference.train(p0, *small, epochs=2, lr=0.05, momentum=0.5, batch_size=40, rng=np.random.default_rng(5))[1]
    check_close(short, want, "the losses of another recipe (2 epochs of 90 digits, batches of 40: the last holds 10)")
    check_close(p0["fc_w"], reference.init_params(3)["fc_w"], "params must be left unchanged")
### END HIDDEN TESTS

# %% [markdown]
# Your training curve (from the test above, when it ran) beside the reference's. With the same
# start, the same batches and the same arithmetic, a correct network retraces the reference's
# curve almost exactly: the two lines lie on top of each other. A curve that starts on the
# reference's and then drifts away means one of your pieces is slightly off (a test above says
# which); one that never falls means the gradient points the wrong way.

# %%
ch09.plot_training_curves(your_losses if "your_losses" in dir() else None)

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch09-improve-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Written question (2 points)
#
# Your network reaches about 93 % on the test digits after 120 steps. Chapter 7's run of the same
# network (Adam, 10 epochs) reaches about 96–97 %. Name two changes to the recipe or the network
# that you expect to raise the test accuracy, and for each say what you would watch, and on which
# part of the data, to know that it helped rather than overfitted (chapter 6).
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch09-improve-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# Train longer: 120 steps is only 3 epochs and the loss is still falling in the third; more epochs
# (chapter 7 uses 10) let it fall further. Use an adaptive optimizer such as Adam (chapter 4), which
# scales each parameter's step and converges faster on the same budget. Others that work: more
# kernels (16 instead of 8), a learning-rate schedule that decays lr, batch norm after the
# convolution (chapter 5). For each, watch the **validation** loss and accuracy (the 269 digits of
# `split.X_val`), never the test set: keep the change if the validation accuracy rises; stop or add
# regularisation (weight decay, dropout, early stopping: chapter 6) when the training loss keeps
# falling while the validation loss turns up — the gap is overfitting. The test digits are looked
# at once, at the end.
#
# **Rubric (2 points).**
# - 1 point — two sensible changes, each with why it should help (longer training, Adam or a schedule, more kernels, batch norm, data augmentation). Half a point for one change, or two without a reason.
# - 1 point — judging them on a validation set, not the test set, by the validation accuracy or loss, and recognising overfitting as the training loss falling while the validation loss rises. Half a point for "watch the accuracy" without saying on which data.

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once. Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("How many parameters does the capstone network have?", [
    ("1,370", True, "conv_w 8·1·3·3 = 72, conv_b 8, fc_w 10·128 = 1,280, fc_b 10: 1,370 in all."),
    ("1,290", False, "That is the affine layer alone (1,280 + 10): the 8 kernels add 72 weights and 8 biases."),
    ("80", False, "That is the convolution alone (72 + 8); the affine layer holds most of the weights."),
])

# %%
ask("What fraction of the entries of deltas['relu'] (δ at the ReLU output) is exactly 0?", [
    ("at least three quarters", True, "Max pooling sends each δ to one cell of its 2×2 window; the other three get 0 (section 4)."),
    ("about half", False, "ReLU zeroes about half of z, but that is deltas['conv']; pooling already zeroes three of four cells."),
    ("none", False, "Max pooling's backward routes each δ to a single cell of its window."),
])

# %%
ask("Move the explorer's step slider: at which step does the reference first reach 90 % test accuracy?", [
    ("within the first 20 steps", False, "At step 20 it is near 80 %; the kernels are still forming."),
    ("around step 55", True, "It first reaches 90 % at step 55, early in the second epoch, and ends at 92.9 %."),
    ("only after the last step", False, "It gets there early in the second epoch and ends at 92.9 %."),
], predict="Predict from the loss curve first, then move the slider.")

# %% [markdown]
# ## Glossary / 术语表
#
# | English | 中文 | in this chapter |
# |---|---|---|
# | backpropagation | 反向传播 | the backward passes of section 4, output to input |
# | error term δ | 残差 | ∂loss/∂(a layer's output); each layer's backward turns its output's δ into its input's |
# | affine (fully connected) layer | 全连接层 | logits = flat · fc_wᵀ + fc_b |
# | convolution | 卷积 | conv2d_forward_fast: a loop over the kernel offsets, one array operation each |
# | max pooling | 最大池化 | the largest value of each 2×2 window; its backward routes δ to it |
# | gradient check | 梯度检验 | central differences of the loss against the analytic gradient |
# | epoch | 轮（epoch） | one pass over the training digits |
# | batch | 批（batch） | the 32 digits of one step |
# | momentum | 动量 | the optimizer's running sum of gradients, one buffer per parameter |
# | training curve | 训练曲线 | the batch loss against the step |
