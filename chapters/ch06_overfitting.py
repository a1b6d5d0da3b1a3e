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
# # Chapter 6 — Overfitting (过拟合) and how to fight it
#
# A network with many weights can fit its training examples perfectly and still predict new
# examples badly: it has learned the examples, not the pattern. That is **overfitting** (过拟合).
# We watch it happen on real handwritten digits and then try the three standard remedies, all
# forms of **regularization** (正则化): **early stopping** (提前停止), **weight decay** (权重衰减)
# and **dropout** (随机失活 / 丢弃).
#
# **What you will be able to do**
# - read training and **validation** (验证集) curves and measure the gap between them;
# - apply an early-stopping rule with a patience, and say which weights it keeps;
# - write the L2 penalty, its gradient, and what it does to the weights;
# - implement inverted dropout and explain why its expected activation is unchanged;
# - compare the three remedies with numbers.
#
# **Prerequisites**: chapter 2 (softmax cross-entropy, 交叉熵), chapter 4 (SGD with momentum, 动量).
#

# %% nbgrader={"grade": false, "grade_id": "ch06-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
import dlcore.regularization as reg
from dlcore.gradcheck import numerical_gradient
from dlcore.explorers import ch06
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot

# %% [markdown]
# ## 1. Many weights, few examples
#
# The experiment of this chapter: a multilayer perceptron 64 → 128 → 128 → 10 with ReLU (about
# 26,000 weights) learns to read the 8×8 digits from only **100 training examples**. A fixed set of
# **500 other digits** is the validation set: never trained on, only used to measure how well the
# network does on digits it has not seen. Training: mini-batches of 32, SGD with momentum 0.9,
# learning rate 0.03, 100 epochs. After every epoch we measure the cross-entropy on both sets (in
# evaluation mode: no dropout).
#
# Training takes a few seconds per run, so the curves of every setting this chapter uses were
# computed once and stored with the course (section 6 says how, and lets you recompute one).
#

# %%
sweep = ch06.load_overfitting_sweep()
x_train, y_train, x_val, y_val = ch06.overfitting_data(100)
sizes = [64 * 128 + 128, 128 * 128 + 128, 128 * 10 + 10]
print(f"{len(x_train)} training digits, {len(x_val)} validation digits, {sum(sizes)} parameters")

few = ch06.cached_history(sweep, 100, weight_decay=0.0, dropout=0.0)
many = ch06.cached_history(sweep, 800, weight_decay=0.0, dropout=0.0)
for name, h in (("100 digits", few), ("800 digits", many)):
    print(f"{name}: after 100 epochs  train loss {h.train_loss[-1]:.3f}  val loss {h.val_loss[-1]:.3f}  "
          f"train acc {h.train_acc[-1]:.3f}  val acc {h.val_acc[-1]:.3f}  gap {h.val_loss[-1] - h.train_loss[-1]:.3f}  "
          f"lowest val loss {h.val_loss.min():.3f} at epoch {h.val_loss.argmin() + 1}")
ch06.plot_histories({"100 training digits": few, "800 training digits": many})

# %% [markdown]
# With 100 digits the training loss goes to almost 0 and the training accuracy to 100%: the
# network has memorised every example. The validation loss falls until about epoch 40 and then
# **rises** again while the training loss keeps falling — from there on, each step fits the
# training examples' particulars, not what digits have in common. The **gap** between the two
# curves (validation minus training loss) is our measure of overfitting. With 8 times more data the
# same network overfits far less: more examples is the best regulariser when you can get them.
#
# ## 2. Early stopping (提前停止)
#
# If the validation loss starts rising, stop — and keep the weights of the best epoch. In practice
# the curve is noisy, so we wait for `patience` epochs without improvement before stopping:
#
# * after each epoch, if the validation loss is lower than the best so far (by more than `min_delta`),
#   remember it and its epoch (save the weights) and reset the counter;
# * otherwise add one to the counter; when it reaches `patience`, stop and restore the best weights.
#
# `dlcore.regularization.EarlyStopping` is this rule. Training only reads the validation curve to
# decide, so we can replay it on the stored curve:
#

# %%
for patience in (1, 3, 10, 30):
    best, stop = ch06.early_stopping_point(few.val_loss, patience)
    print(f"patience {patience:2d}: stops after epoch {stop:3d}, keeps epoch {best:3d}: "
          f"val loss {few.val_loss[best - 1]:.3f}, train loss {few.train_loss[best - 1]:.3f}, "
          f"gap {few.val_loss[best - 1] - few.train_loss[best - 1]:.3f}")
best10, _ = ch06.early_stopping_point(few.val_loss, 10)
ch06.plot_history(few, "100 digits, no regularisation; early stopping with patience 10", best_epoch=best10)

# %% [markdown]
# Patience 1 stops at epoch 5, on the flat start of the curve, before the network has learned
# anything useful; patience 3 also stops early. With patience 10 or 30 the kept epoch is 39, where the
# validation loss is lowest (0.45 instead of 0.55 at epoch 100), and the gap is 0.39 instead of 0.54.
# Patience buys robustness against noise at the price of some wasted epochs (never wasted weights:
# the best ones are kept).
#
# ## 3. Weight decay (权重衰减)
#
# Weight decay adds a penalty on large weights to the loss,
#
# $$L_\text{total}(w) = L(w) + \frac{\lambda}{2}\lVert w\rVert^2, \qquad
# \nabla_w L_\text{total} = \nabla_w L + \lambda w ,$$
#
# so one SGD step becomes $w \leftarrow w - \text{lr}\,(\nabla L + \lambda w) = (1-\text{lr}\,\lambda)\,w - \text{lr}\,\nabla L$:
# before each step every weight is shrunk by the factor $1-\text{lr}\,\lambda$, hence the name. This
# is what `weight_decay=λ` means in `torch.optim` and in `dlcore.optim`. That factor is the
# plain-SGD form. Our runs use momentum μ = 0.9, and there λ·w enters the momentum buffer like any
# gradient, so once the buffer has built up a weight the loss does not push is shrunk by about
# 1 − lr·λ/(1 − μ) per step — ten times the plain rate (measured below with `dlcore.optim.SGD`). Here it acts on every
# parameter, biases included, as `torch.optim.SGD(model.parameters(), weight_decay=λ)` does; many
# people spare the biases (they do not make the function more wiggly), which takes parameter groups.
#

# %%
w = np.array([[3.0, -4.0], [0.5, 0.0]])
lam = 0.1
print("penalty λ/2·‖w‖² =", reg.l2_penalty(w, lam), "  (by hand: 0.05 · (9 + 16 + 0.25) = 1.2625)")
print("gradient λ·w     =", reg.l2_penalty_grad(w, lam).tolist())
print("numerical        =", numerical_gradient(lambda v: reg.l2_penalty(v, lam), w).round(8).tolist())
lr, lam_run = ch06.RUN_CONFIG["lr"], 0.01
print(f"shrink per step at lr = {lr}, λ = {lam_run}: plain SGD {ch06.decay_per_step(lr, lam_run):.5f} "
      f"(1 − lr·λ = {1 - lr * lam_run:.5f}),  momentum 0.9 {ch06.decay_per_step(lr, lam_run, momentum=0.9):.5f} "
      f"(1 − lr·λ/(1 − μ) = {1 - lr * lam_run / 0.1:.5f})")

# %% [markdown]
# What does it do to the weights? Here are the first layer's 8,192 weights after 100 epochs on the
# 100 digits, for three values of λ (the same runs as in the curves below); the histogram spans every
# weight, with a log density so that the tails show:
#

# %%
w1_init = ch06.init_mlp((64, 128, 128, 10), np.random.default_rng(sweep["config"]["seed"]))[0]  # every run's start
print(f"at initialisation ‖W1‖ = {np.linalg.norm(w1_init):5.2f}   mean |w| = {np.abs(w1_init).mean():.4f}")
decays = [float(v) for v in sweep["weight_decays"]]
for j, lam in enumerate(decays):
    w1 = sweep["w1_final"][j]
    print(f"λ = {lam:<6g} ‖W1‖ = {np.linalg.norm(w1):5.2f}   mean |w| = {np.abs(w1).mean():.4f}   "
          f"share of |w| < 0.01: {np.mean(np.abs(w1) < 0.01):.2f}")
ch06.plot_weight_histograms({f"λ = {decays[j]:g}": sweep["w1_final"][j] for j in (0, 3, 4)})

# %% [markdown]
# The weights start with norm 6.5 (PyTorch's initialisation, drawn from the same seed in every run); without decay training grows
# them to 9.1, with λ = 0.01 they end at 5.5 and with λ = 0.03 at 4.2, and the distribution piles up
# near 0. Smaller weights mean a smoother function, which cannot bend to fit every training example.
# The curves:
#

# %%
hists = {f"λ = {lam:g}": ch06.cached_history(sweep, 100, lam, 0.0) for lam in (0.0, 1e-3, 1e-2, 3e-2)}
for name, h in hists.items():
    print(f"{name:10s} final train loss {h.train_loss[-1]:.3f}  val loss {h.val_loss[-1]:.3f}  gap {h.val_loss[-1] - h.train_loss[-1]:.3f}")
ch06.plot_histories(hists)

# %% [markdown]
# The gap shrinks as λ grows to 0.01 (0.54 → 0.47 → 0.32) and no further (0.32 at λ = 0.03). And λ = 0.03 is too much: the training
# loss cannot go down any more (0.29) and the validation loss is *worse* than with λ = 0.01. A small gap
# is not the goal by itself — a low validation loss is; λ is chosen on the validation set.
#
# ## 4. Dropout (随机失活 / 丢弃)
#
# During training, dropout sets each unit of a layer to 0 with probability $p$, independently, with a
# **new random mask at every step**; at test time nothing is dropped. To keep the scale the same in
# both modes, *inverted* dropout (what PyTorch and `dlcore` do) divides the kept units by $1-p$
# during training:
#
# $$\text{out} = x \odot m, \qquad m_i = \begin{cases} \tfrac{1}{1-p} & \text{with probability } 1-p\\ 0 & \text{with probability } p\end{cases}
# \qquad\Rightarrow\qquad \mathbb E[\text{out}_i] = (1-p)\cdot\frac{x_i}{1-p} + p\cdot 0 = x_i .$$
#
# So the expected activation is unchanged and at test time the layer is simply the identity. (The
# original 2014 formulation did not scale in training and multiplied by $1-p$ at test time instead:
# the same thing in expectation.)
#

# %%
rng = np.random.default_rng(0)
x = np.full((1, 100_000), 2.0)
out, cache = reg.dropout_forward(x, p=0.4, rng=rng)
print("share of units dropped:", np.mean(out == 0))
print("value of a kept unit:  ", out[out > 0][:3], "= 2 / (1 − 0.4)")
print("mean activation:        %.4f (input 2.0)" % out.mean())
test_out, _ = reg.dropout_forward(x, p=0.4, rng=rng, train=False)
print("at test time the layer returns its input:", np.array_equal(test_out, x))

# %% [markdown]
# **Dropout drops random units, not "useless" weights.** Which units are dropped is decided by a coin
# flip per unit per step; it does not look at the weights' values or at how useful a unit is, and a
# dropped unit is back in the next step. Every unit is dropped in about a fraction $p$ of the steps.
# (Removing weights judged useless is a different technique, *pruning*.) The effect is that no unit
# can rely on particular other units being present, so the network must spread what it knows over many
# units; one can also see it as training a huge family of thinned networks that share weights and
# averaging them at test time.
#
# On our 100 digits (dropout after each hidden ReLU), for four dropout rates:
#

# %%
hists = {f"p = {p:g}": ch06.cached_history(sweep, 100, 0.0, p) for p in (0.0, 0.2, 0.4, 0.6)}
for name, h in hists.items():
    print(f"{name:8s} final train loss {h.train_loss[-1]:.3f}  val loss {h.val_loss[-1]:.3f}  gap {h.val_loss[-1] - h.train_loss[-1]:.3f}")
ch06.plot_histories(hists)

# %% [markdown]
# At 100 digits p = 0.2 is the best of the four: its validation loss (0.470) and its gap (0.467) are
# both lower than p = 0.4's (0.495 and 0.479); p = 0.6 has the smallest gap (0.36) but the worst
# validation loss, because it cannot fit the training set any more.
#
# ## 5. The three remedies side by side
#
# For the 100 digits: no regularisation (the weights of epoch 100), early stopping with patience 10
# (the weights of its best epoch), weight decay λ = 0.01, and dropout p = 0.4 (epoch 100).
# Why p = 0.4 and not the 0.2 that just won at 100 digits? The comparison below runs over every
# training-set size, and p = 0.4 has the lowest validation loss of the four rates at 200, 400 and
# 800 digits; at 100 digits it is slightly worse than p = 0.2, so dropout's bar here is a little
# less good than dropout at its best for this size. One rate for all sizes keeps the table fair;
# choosing p per size on the validation set is what one would do in practice.
#

# %%
s = ch06.CHAPTER_SETTING
none = ch06.gap_summary(ch06.cached_history(sweep, s["n_train"], 0.0, 0.0))
summaries = {"none": none,
             f"early stopping\n(patience {s['patience']})": ch06.gap_summary(ch06.cached_history(sweep, s["n_train"], 0.0, 0.0), s["patience"]),
             f"weight decay\n(λ = {s['weight_decay']:g})": ch06.gap_summary(ch06.cached_history(sweep, s["n_train"], s["weight_decay"], 0.0)),
             f"dropout\n(p = {s['dropout']:g})": ch06.gap_summary(ch06.cached_history(sweep, s["n_train"], 0.0, s["dropout"]))}
for name, m in summaries.items():
    print(f"{name.replace(chr(10), ' '):28s} kept epoch {m['best_epoch']:3d}  train loss {m['train_loss']:.3f}  "
          f"val loss {m['val_loss']:.3f}  val acc {m['val_acc']:.3f}  gap {m['gap']:.3f}")
ch06.plot_gap_bars({k: m["gap"] for k, m in summaries.items()})

# %% [markdown]
# The same comparison for every training-set size of the stored grid:

# %%
print("gap (val − train loss) for each training-set size:")
print(" size    none   early stop   λ=0.01   p=0.4")
for n in sweep["sizes"]:
    h0 = ch06.cached_history(sweep, n, 0.0, 0.0)
    g = [ch06.gap_summary(h0)["gap"], ch06.gap_summary(h0, s["patience"])["gap"],
         ch06.gap_summary(ch06.cached_history(sweep, n, s["weight_decay"], 0.0))["gap"],
         ch06.gap_summary(ch06.cached_history(sweep, n, 0.0, s["dropout"]))["gap"]]
    print(f"{n:5d}  " + "  ".join(f"{v:8.3f}" for v in g))

# %% [markdown]
# Each remedy shrinks the gap at every size, and each also lowers the validation loss at 100 digits.
# Weight decay does the most here, dropout the least at this size (it does better with more data);
# they can be combined. None of them beats getting 8 times more data.
#
# ## 6. Explorer, and how its curves were made
#
# The explorer shows the stored curves for any combination of training-set size, weight decay and
# dropout in the grid, marks where early stopping with the chosen patience stops and which epoch it
# keeps, and compares the final gap with no regularisation at the same size.
#
# **How the cache was produced.** `python -m dlcore.chapters.ch06 --rebuild-sweep` (or `make data`) trains
# the network above for every combination of 5 sizes × 5 weight decays × 4 dropout rates (100 runs,
# about 2.5 minutes on two cores)
# and saves the per-epoch curves to `dlcore/data/ch06_sweep.npz` (float32, with the grid and the
# settings). Every run is deterministic: one `numpy.random.Generator` seeded with 0 draws the initial
# weights, the order of the mini-batches and every dropout mask, so rebuilding the file gives the same
# numbers bit for bit. 
# `ch06.run_setting(n_train, weight_decay, dropout)` recomputes any one run; early stopping needs no extra runs because stopping
# only reads the validation curve, so a stopped run is the beginning of the full one.
#

# %%
print("grid:", {k: sweep[k].tolist() for k in ("sizes", "weight_decays", "dropouts")})
print("settings:", sweep["config"])
explorer = ch06.overfitting_explorer()
explorer

# %% [markdown]
# Recompute the explorer's current setting from scratch (the button in the explorer does the same):
# the live curve is drawn as dots over the stored one, and the largest difference is printed — it is at
# the level of float32 rounding, about $10^{-7}$. This takes a few seconds.
#

# %%
print("largest |live − stored| over the four curves:", explorer.recompute_live())


# %% [markdown]
# Once you have solved exercise 4, `ch06.overfitting_explorer(student_fn=early_stop)` also marks
# where your rule stops.
#
# ## 7. Exercises
#
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers none of its functions
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch06-dropout-forward-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — `dropout_forward` (inverted dropout) · 3 points
#
# Write `dropout_forward(x, p, rng, train=True)` returning `(out, mask)`, both of the shape of `x`:
#
# * in training (`train=True`): draw `u = rng.random(x.shape)` **once**, keep the units where
#   `u >= p`; `mask` is `1/(1-p)` for kept units and `0` for dropped ones; `out = x * mask`;
# * at test time (`train=False`): `out = x` and `mask` all ones, and draw no random numbers.
#
# `p` is the probability of dropping a unit, `0 <= p < 1`. Drawing exactly as described lets the
# tests compare your result with `dlcore`'s for the same seed. Calling
# `dlcore.regularization.dropout_forward` fails the test.
#

# %% nbgrader={"grade": false, "grade_id": "ch06-dropout-forward-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout_forward(x, p, rng, train=True):
    """Inverted dropout.

    x: array of any shape; p: drop probability in [0, 1); rng: numpy.random.Generator;
    train: True for training, False for evaluation.
    Returns (out, mask), both of x's shape: mask is 1/(1-p) for kept units and 0 for dropped
    ones (all ones when train is False), and out = x * mask.
    """
    ### BEGIN SOLUTION
    if not train:
        return x, np.ones_like(x)
    keep = rng.random(x.shape) >= p
    mask = keep / (1.0 - p)
    return x * mask, mask
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06-dropout-forward-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.regularization as _reg
from dlcore.testing import check_close, check_shape, run_student

_ref = (_reg.dropout_forward,)
_x = np.arange(1.0, 13.0).reshape(3, 4)
_res = run_student(dropout_forward, _x, 0.5, np.random.default_rng(0), forbid=_ref)
assert isinstance(_res, tuple) and len(_res) == 2, f"dropout_forward: expected a tuple (out, mask), got {type(_res).__name__}"
_out, _mask = _res
check_shape(_out, (3, 4), "out")
check_shape(_mask, (3, 4), "mask")
# by hand: with p = 0.5 a kept unit is doubled, a dropped one is 0
_keep = np.random.default_rng(0).random((3, 4)) >= 0.5
check_close(_mask, 2.0 * _keep, "mask for p = 0.5 (2 where kept, 0 where dropped)")
check_close(_out, _x * 2.0 * _keep, "out = x * mask")
# against dlcore with the same seed
_x = np.random.default_rng(1).normal(size=(8, 5))
check_close(run_student(dropout_forward, _x, 0.3, np.random.default_rng(42), forbid=_ref)[0],
            _reg.dropout_forward(_x, 0.3, np.random.default_rng(42))[0], "out compared with dlcore (p = 0.3, seed 42)")
# test time: the identity
_o, _m = run_student(dropout_forward, _x, 0.3, np.random.default_rng(42), train=False, forbid=_ref)
check_close(_o, _x, "out with train=False")
check_close(_m, np.ones_like(_x), "mask with train=False")
print("visible tests passed")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(99)
for _ in range(4):
    _shape = tuple(int(v) for v in _rng.integers(1, 7, size=int(_rng.integers(1, 5))))
    _p = float(_rng.choice([0.0, 0.1, 0.5, 0.9]))
    _seed = int(_rng.integers(1000))
    _x = _rng.normal(size=_shape)
    _o, _m = run_student(dropout_forward, _x, _p, np.random.default_rng(_seed), forbid=_ref)
    _ro, _rc = _reg.dropout_forward(_x, _p, np.random.default_rng(_seed))
    check_close(_o, _ro, f"out on shape {_shape}, p = {_p}")
# the expected activation is unchanged
_o, _ = run_student(dropout_forward, np.ones((200, 500)), 0.4, np.random.default_rng(3), forbid=_ref)
check_close(float(np.mean(_o)), 1.0, "mean of dropout(ones) over 100,000 units", rtol=0.02)
# train=False draws no random numbers
_g = np.random.default_rng(5)
run_student(dropout_forward, np.ones(4), 0.5, _g, train=False, forbid=_ref)
check_close(_g.random(), np.random.default_rng(5).random(), "rng untouched when train=False")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch06-dropout-backward-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — `dropout_backward` · 2 points
#
# Write `dropout_backward(dout, mask)` returning `dx`, the gradient with respect to `x` of the
# forward `out = x * mask` (shapes: all that of `x`). A dropped unit passes no gradient back; a kept
# one passes it scaled by the same $1/(1-p)$. Calling `dlcore.regularization.dropout_backward` fails
# the test; the hidden tests compare with a numerical gradient. Check yours with your own chapter-2
# checker before you run the test: in a new cell, `from dlcore.workspace import carry; carry("eval_numerical_gradient", "rel_error")` brings your checker from chapter 2.
#

# %% nbgrader={"grade": false, "grade_id": "ch06-dropout-backward-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout_backward(dout, mask):
    """Gradient of inverted dropout.

    dout: upstream gradient dL/dout; mask: the forward's mask (0 or 1/(1-p)); same shape.
    Returns dx = dL/dx, the shape of dout.
    """
    ### BEGIN SOLUTION
    return dout * mask
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06-dropout-backward-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.regularization as _reg
from dlcore.testing import check_close, check_gradient, check_shape, run_student

_ref = (_reg.dropout_backward,)
_mask = np.array([[2.0, 0.0], [0.0, 2.0]])
_dx = run_student(dropout_backward, np.array([[1.0, 2.0], [3.0, 4.0]]), _mask, forbid=_ref)
check_shape(_dx, (2, 2), "dx")
check_close(_dx, [[2.0, 0.0], [0.0, 8.0]], "dx for dout = [[1, 2], [3, 4]], mask = [[2, 0], [0, 2]]")
_x = np.random.default_rng(0).normal(size=(6, 4))
_out, _cache = _reg.dropout_forward(_x, 0.25, np.random.default_rng(8))
_dout = np.random.default_rng(1).normal(size=(6, 4))
check_close(run_student(dropout_backward, _dout, _cache.mask, forbid=_ref), _reg.dropout_backward(_dout, _cache),
            "dx compared with dlcore.regularization.dropout_backward")
print("visible tests passed")
### BEGIN HIDDEN TESTS
for _seed in (3, 4):
    _rng = np.random.default_rng(_seed)
    _shape = tuple(int(v) for v in _rng.integers(1, 6, size=3))
    _x, _dout = _rng.normal(size=_shape), _rng.normal(size=_shape)
    _p = float(_rng.uniform(0.1, 0.8))
    _m = _reg.dropout_forward(_x, _p, np.random.default_rng(_seed))[1].mask
    check_gradient(lambda v: float(np.sum(v * _m * _dout)), _x, run_student(dropout_backward, _dout, _m, forbid=_ref),
                   f"dx on shape {_shape}")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch06-l2-grad-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 — the L2 penalty's gradient · 2 points
#
# Write `l2_penalty_grad(w, weight_decay)` returning the gradient of the penalty
# $\frac{\lambda}{2}\lVert w\rVert^2 = \frac{\lambda}{2}\sum_i w_i^2$ (with $\lambda$ = `weight_decay`)
# with respect to `w`, an array of any shape; the result has `w`'s shape. Calling
# `dlcore.regularization.l2_penalty_grad` fails the test.
#

# %% nbgrader={"grade": false, "grade_id": "ch06-l2-grad-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def l2_penalty_grad(w, weight_decay):
    """Gradient of the L2 penalty weight_decay / 2 * sum(w ** 2).

    w: array of any shape; weight_decay: lambda >= 0.
    Returns an array of w's shape.
    """
    ### BEGIN SOLUTION
    return weight_decay * w
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06-l2-grad-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.regularization as _reg
from dlcore.testing import check_close, check_gradient, check_shape, run_student

_ref = (_reg.l2_penalty_grad,)
_g = run_student(l2_penalty_grad, np.array([3.0, -4.0]), 0.1, forbid=_ref)
check_shape(_g, (2,), "gradient")
check_close(_g, [0.3, -0.4], "l2_penalty_grad([3, -4], 0.1)")
_w = np.random.default_rng(0).normal(size=(4, 3))
check_close(run_student(l2_penalty_grad, _w, 0.01, forbid=_ref), _reg.l2_penalty_grad(_w, 0.01),
            "compared with dlcore.regularization.l2_penalty_grad")
print("visible tests passed")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(17)
for _shape, _lam in (((5,), 0.3), ((2, 3, 4), 1e-3), ((3, 3), 0.0)):
    _w = _rng.normal(size=_shape)
    check_gradient(lambda v: _reg.l2_penalty(v, _lam), _w, run_student(l2_penalty_grad, _w, _lam, forbid=_ref),
                   f"gradient on shape {_shape}, weight_decay {_lam}")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch06-early-stop-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 — an early-stopping rule · 3 points
#
# Write `early_stop(val_losses, patience, min_delta=0.0)` that replays early stopping on a
# sequence of validation losses (one per epoch) and returns `(best_epoch, stop_epoch)`, both
# **1-based** integers:
#
# * an epoch *improves* when its loss is `< best - min_delta` (best: the lowest loss of an improving
#   epoch so far; the first epoch always improves); `best_epoch` is the last improving epoch;
# * count the epochs since the last improvement; training stops at the first epoch where that count
#   reaches `patience`; `stop_epoch` is that epoch, or `len(val_losses)` if it never happens.
#
# Example: losses `[1.0, 0.5, 0.6, 0.7]`, patience 2 → `(2, 4)`. Calling
# `dlcore.regularization.EarlyStopping` or `ch06.early_stopping_point` fails the test.
#

# %% nbgrader={"grade": false, "grade_id": "ch06-early-stop-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def early_stop(val_losses, patience, min_delta=0.0):
    """Replay early stopping on a validation curve.

    val_losses: sequence of floats, one per epoch; patience: int >= 1; min_delta: float >= 0.
    Returns (best_epoch, stop_epoch), 1-based ints.
    """
    ### BEGIN SOLUTION
    best, best_epoch, bad = float("inf"), 0, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best - min_delta:
            best, best_epoch, bad = loss, epoch, 0
        else:
            bad += 1
        if bad >= patience:
            return best_epoch, epoch
    return best_epoch, len(val_losses)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch06-early-stop-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.regularization as _reg
from dlcore.explorers import ch06 as _ch06
from dlcore.testing import check_close, run_student

_ref = (_reg.EarlyStopping.step, _ch06.early_stopping_point)


def _ints(res, what):
    assert isinstance(res, tuple) and len(res) == 2, f"{what}: expected a tuple (best_epoch, stop_epoch), got {res!r}"
    assert all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in res), \
        f"{what}: best_epoch and stop_epoch must be integers, got {res!r}"
    return [int(res[0]), int(res[1])]


check_close(_ints(run_student(early_stop, [1.0, 0.5, 0.6, 0.7], 2, forbid=_ref), "early_stop"), [2, 4],
            "early_stop([1.0, 0.5, 0.6, 0.7], patience=2)")
check_close(_ints(run_student(early_stop, [1.0, 0.9, 0.8], 1, forbid=_ref), "early_stop"), [3, 3],
            "early_stop([1.0, 0.9, 0.8], patience=1): never stops, so stop_epoch = 3")
check_close(_ints(run_student(early_stop, [1.0, 0.95, 0.9, 0.85], 2, min_delta=0.1, forbid=_ref), "early_stop"), [1, 3],
            "early_stop([1.0, 0.95, 0.9, 0.85], patience=2, min_delta=0.1)")
_val = _ch06.cached_history(_ch06.load_overfitting_sweep(), 100, 0.0, 0.0).val_loss
check_close(_ints(run_student(early_stop, list(_val), 10, forbid=_ref), "early_stop"),
            list(_ch06.early_stopping_point(_val, 10)), "on the chapter's validation curve, patience 10")
print("visible tests passed")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(31)
for _ in range(6):
    _v = np.cumsum(_rng.normal(0, 0.1, int(_rng.integers(5, 60)))) + 3.0
    _pat = int(_rng.integers(1, 8))
    _md = float(_rng.choice([0.0, 0.01, 0.05]))
    check_close(_ints(run_student(early_stop, list(_v), _pat, min_delta=_md, forbid=_ref), "early_stop"),
                list(_ch06.early_stopping_point(_v, _pat, _md)), f"random curve of {len(_v)} epochs, patience {_pat}, min_delta {_md}")
# ties do not count as improvements
check_close(_ints(run_student(early_stop, [1.0, 1.0, 1.0], 2, forbid=_ref), "early_stop"), [1, 3], "a flat curve")
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Written questions

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch06-valset-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Question 1 (2 points).** We chose the patience, λ and p by looking at the validation loss. Why
# not at the training loss? And why should the final accuracy you report come from a third set of
# examples (a test set) that was not used for any of these choices?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch06-valset-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# The training loss only says how well the network fits the examples it was trained on; it keeps
# falling while the network overfits, so it would always favour no regularisation. The validation
# loss estimates performance on unseen digits. But once we pick settings because they look best on
# the validation set, that set has been used for fitting (of the hyperparameters), and its score is
# optimistic; an untouched test set gives an honest estimate.
#
# **Rubric (2 points).**
# - 1 point — the training loss keeps falling while the network overfits, so it would always favour no regularisation; the validation loss estimates unseen data. Half a point for one of the two.
# - 1 point — choosing settings on the validation set fits them to it, so its score becomes optimistic; an untouched test set gives the honest estimate. Half a point for "use a test set" without saying why.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch06-dropout-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Question 2 (2 points).** A friend says: "dropout removes the useless weights of the network, so
# at test time you use the smaller network." Correct both halves of the sentence, and explain why
# inverted dropout needs no change at test time.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch06-dropout-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# Dropout zeroes random units (not weights judged useless), chosen by an independent coin flip with
# probability p at every training step, whatever their weights; a dropped unit returns in the next
# step. At test time nothing is dropped: the full network is used. Because inverted dropout divides
# the kept units by 1 − p during training, each unit's expected activation equals its value without
# dropout, so the full network at test time already has the right scale and the layer is the identity.
#
# **Rubric (2 points).**
# - 1 point — dropout zeroes random units by an independent coin flip with probability p at every step, whatever their weights; a dropped unit is back next step (it does not remove useless weights). Half a point for "random, not useless" without the per-step mask.
# - 1 point — at test time nothing is dropped and, because inverted dropout divides kept units by 1 − p in training, the full network already has the right scale. Half a point for "nothing is dropped at test time" without the scaling.

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once (every option has one, so a
# wrong choice teaches something too). Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("Early stopping with patience 10 ends training and keeps the weights of …", [
    ("the last epoch trained", False, "Those are 10 epochs past the best one; the stopper restores the best."),
    ("the epoch with the lowest validation loss", True, "In the explorer's default: epoch 39 is kept, training stops at epoch 49."),
    ("the epoch with the lowest training loss", False, "The training loss keeps falling while the network overfits; the validation loss decides."),
])

# %%
ask("Inverted dropout with p = 0.4 multiplies each kept unit during training by …", [
    ("1/(1 − 0.4) ≈ 1.67", True, "So the expected activation is unchanged and at test time the layer is the identity."),
    ("0.6", False, "That is the original 2014 formulation's factor, applied at test time instead."),
    ("0.4", False, "p is the probability of dropping a unit, not a scale."),
])

# %%
ask("At 100 digits, move weight decay λ from 0 to 0.01. The gap (validation − training loss) …", [
    ("shrinks", True, "From 0.54 to 0.32 with early stopping off (0.39 to 0.34 with it on): smaller weights cannot bend to fit every training example (section 3)."),
    ("grows", False, "Weight decay pulls the training loss up more than the validation loss: the gap shrinks."),
    ("does not change", False, "Compare the two bars on the right of the explorer."),
], predict="Predict first, then move the slider.")

# %%
ask("Our runs use SGD with momentum μ = 0.9. A weight the loss does not push shrinks per step by about …", [
    ("1 − lr·λ", False, "That is plain SGD; with momentum λ·w accumulates in the buffer like any gradient."),
    ("1 − lr·λ/(1 − μ), ten times the plain rate", True, "Measured in section 3 with dlcore.optim.SGD: 0.9969 against 0.9997 at lr = 0.03, λ = 0.01."),
    ("it does not shrink", False, "λ·w enters every step's gradient; only λ = 0 leaves it alone."),
])

# %% [markdown]
# ## Glossary
#
# | English | 中文 |
# |---|---|
# | overfitting | 过拟合 |
# | underfitting | 欠拟合 |
# | regularization | 正则化 |
# | training set / validation set / test set | 训练集 / 验证集 / 测试集 |
# | early stopping | 提前停止 |
# | patience | 耐心（容忍轮数） |
# | weight decay (L2 penalty) | 权重衰减（L2 正则） |
# | dropout | 随机失活 / 丢弃 |
# | generalization gap | 泛化差距 |
# | epoch | 轮（epoch） |
#
