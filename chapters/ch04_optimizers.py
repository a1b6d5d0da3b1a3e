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
# # Chapter 4 — learning rate and optimizers
#
# **What you will be able to do**
# - predict from the curvature L when gradient descent (梯度下降) crawls, oscillates (震荡 *oscillation*) or
#   diverges, and use a step-decay (衰减 *decay*) schedule for the learning rate (学习率 *learning rate*);
# - recognise saddle points (鞍点 *saddle point*) and saddle surfaces (马鞍面 *saddle surface*)
#   where plain gradient descent stalls;
# - write one step of momentum (动量 *momentum*), Nesterov momentum, and the adaptive (自适应
#   *adaptive*) methods Adagrad, RMSprop and Adam, and say what state each one keeps.
#
# **Prerequisites**: chapters 1–3 (gradients, the chain rule). All numbers below come from
# `dlcore.optim` (whose every step equals the same-named `torch.optim` class) and
# `dlcore.surfaces` (two-dimensional test functions with exact gradients).

# %% nbgrader={"grade": false, "grade_id": "ch04-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
from dlcore import optim, surfaces
from dlcore.explorers import ch04
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot

# %% [markdown]
# ## 1. The learning rate: too large oscillates or diverges, too small crawls
#
# On f(x) = L/2·x² the gradient is L·x, so one step of gradient descent is
# x ← x − lr·L·x = (1 − lr·L)·x. After k steps x_k = (1 − lr·L)ᵏ·x₀:
#
# - 0 < lr < 1/L: the factor is in (0, 1), x shrinks without changing sign; a tiny lr *crawls*;
# - 1/L < lr < 2/L: the factor is in (−1, 0), x flips sign every step (oscillation) but shrinks;
# - lr > 2/L: |1 − lr·L| > 1 and x grows without bound: divergence.
#
# In several dimensions the largest curvature L (the largest Hessian eigenvalue) sets the limit
# 2/L for the whole problem. Below, L = 4, so the limit is 0.5.

# %%
ch04.plot_step_sizes(curvature=4.0, factors=(0.05, 0.4, 0.95, 1.05), steps=40)

# %%
bowl = surfaces.Quadratic(a=4.0, b=4.0, name="round_bowl")
for factor in (0.05, 0.4, 0.95, 1.05):
    lr = factor * 2 / 4.0
    x40 = surfaces.run_optimizer(bowl, "sgd", start=(1.0, 0.0), steps=40, lr=lr)[-1, 0]
    print(f"lr = {lr:.3f} ({factor:4.2f} × 2/L): x_40 = {x40: .3e}   predicted (1 - lr·L)^40 = {(1 - lr * 4) ** 40: .3e}")

# %% [markdown]
# ## 2. A step-decay schedule
#
# With noisy (mini-batch) gradients a constant learning rate stops improving at a noise floor
# whose height grows with lr. A step decay, `StepLR(opt, step_size, gamma)`, multiplies lr by γ
# every `step_size` epochs (lr = lr₀·γ^⌊epoch/step_size⌋): large steps early to get close, small
# steps late to settle. Here: SGD on f = ½‖w‖² with gradient noise of standard deviation 1.

# %%
opt = optim.SGD([np.zeros(2)], lr=0.5)
sched = optim.StepLR(opt, step_size=15, gamma=0.3)
lrs = []
for epoch in range(60):
    lrs.append(opt.lr)
    sched.step()
print("lr at epochs 0, 15, 30, 45:", [round(lrs[e], 5) for e in (0, 15, 30, 45)])

# %% [markdown]
# Ten noisy runs of 60 epochs each (seeds 0–9), with three constant learning rates and with the
# schedule above; the figure plots the mean of the ten runs of each, the numbers the table prints:

# %%
for label, lr, step_size in (("constant lr", 0.5, None), ("constant lr", 0.15, None), ("constant lr", 0.045, None),
                             ("StepLR", 0.5, 15)):
    curve = np.mean([ch04.noisy_quadratic_losses(lr, step_size=step_size, gamma=0.3, rng=np.random.default_rng(s))
                     for s in range(10)], axis=0)          # mean over 10 seeds, one value per epoch
    print(f"{label:12s} lr₀ = {lr:<5}: loss after 1 epoch {curve[1]:7.4f}, after 60 epochs {curve[-1]:.4f}")
ch04.plot_step_decay(lrs=(0.5, 0.15, 0.045), step_size=15, gamma=0.3, seeds=10)

# %% [markdown]
# The floor falls with the learning rate (0.43 at lr 0.5, 0.08 at 0.15, 0.025 at 0.045), but a
# small constant lr is slow to get there (4.2 after the first epoch, against 0.27 at lr 0.5). The step decay starts as fast as lr 0.5 and ends, after its
# last 15 epochs at lr 0.0135, lower than every constant lr above.

# %% [markdown]
# ## 3. Saddle surfaces: where plain gradient descent stalls
#
# On the saddle f = x² − y² the origin is a *saddle point*: the gradient is zero, the surface
# curves up along x and down along y. Gradient descent started on (or very near) the ridge y = 0
# first slides down to the saddle along x, and then has to *escape* along y, where the gradient
# −2y is as small as y itself: y grows only by the factor (1 + 2·lr) per step. The
# plateau-and-saddle surface x³ − 3xy² + (x² + y²)²/2 is worse: at its centre the gradient *and*
# the curvature vanish, a flat plateau where steps are tiny.
#
# Below: steps until f is clearly below the saddle's value 0 (f < −1 on the saddle, f < −0.5 on the
# plateau-and-saddle), same lr = 0.01. The figure's right panel plots |y|, the distance from the
# ridge, on a log scale: escaping is |y| growing by a constant factor per step, a straight line
# whose slope is ln(1 + 2·lr) for SGD and steeper for momentum. (f itself is unbounded below on
# this saddle: it falls for ever once a run has escaped, so "final loss" says nothing here.)

# %%
for name, start in (("saddle", (-1.5, 1e-3)), ("plateau_saddle", (1.5, 1e-3))):
    counts = {opt_name: ch04.escape_step(name, opt_name, start=start, steps=2000, below=-0.5 if name == "plateau_saddle" else -1.0,
                                         **ch04.hyper_for(opt_name, lr=0.01, momentum=0.9))
              for opt_name in ("sgd", "momentum", "nesterov", "adam")}
    print(f"{name:15s} start {start}: steps to escape {counts}")
ch04.plot_trajectories("saddle", {"SGD": ("sgd", {"lr": 0.01}),
                                  "Momentum 0.9": ("momentum", {"lr": 0.01, "momentum": 0.9})},
                       steps=120, start=(-1.5, 1e-3))

# %% [markdown]
# Research on large networks (Dauphin et al., 2014) argues that in high dimensions most critical
# points with a high loss are saddles rather than bad local minima — a result we do not reproduce
# here, but it is one reason methods that build up speed (momentum) or rescale small gradients (Adam)
# help in practice. Started *exactly* on the ridge (y = 0) plain gradient descent never leaves it:
# the y-gradient is exactly 0 there.

# %% [markdown]
# ## 4. Momentum, in the notes' form and in PyTorch's
#
# The study notes write momentum with a velocity v, calling the momentum α and the learning rate
# ε; in this chapter the momentum is always μ and the learning rate lr, so their form reads
#
# v ← μ·v − lr·g,  w ← w + v.
#
# PyTorch (`torch.optim.SGD(momentum=μ)`, and `dlcore.optim.SGD`) keeps a buffer b instead:
#
# b ← μ·b + g,  w ← w − lr·b.
#
# With v₀ = b₀ = 0 and a constant learning rate, v = −lr·b after every step, so the two walk
# exactly the same points. They differ only if lr changes during training (PyTorch's buffer does
# not carry the old lr along). Checked on the ill-conditioned bowl for 50 steps:

# %%
notes_form, torch_form = ch04.momentum_forms("ill_conditioned", lr=0.05, momentum=0.9, steps=50)
print("largest difference between the two trajectories:", np.abs(notes_form - torch_form).max())
print("after 50 steps:", notes_form[-1], torch_form[-1])

# %% [markdown]
# ## 5. Nesterov momentum
#
# Nesterov's method evaluates the gradient where momentum is about to carry the weights, so it
# corrects an overshoot one step earlier. PyTorch's form: b ← μ·b + g, w ← w − lr·(g + μ·b).
# On the ill-conditioned bowl f = (0.2x² + 4y²)/2 (condition number 20), steps until the
# distance to the minimum is below 10⁻³:

# %%
print("  lr   μ    SGD  momentum  Nesterov")
for lr in (0.1, 0.2):
    for mu in (0.5, 0.8, 0.9, 0.95):
        n = [ch04.steps_to_tolerance("ill_conditioned", o, 1e-3, steps=3000, **ch04.hyper_for(o, lr, momentum=mu))
             for o in ("sgd", "momentum", "nesterov")]
        print(f"{lr:5.2f} {mu:4.2f} {n[0]!s:>5} {n[1]!s:>9} {n[2]!s:>9}")
ch04.plot_trajectories("ill_conditioned", {"SGD": ("sgd", {"lr": 0.1}),
                                           "Momentum": ("momentum", {"lr": 0.1, "momentum": 0.9}),
                                           "Nesterov": ("nesterov", {"lr": 0.1, "momentum": 0.9})}, steps=150)

# %% [markdown]
# The right panel plots f − f* on a log scale, so "no later" is visible: at lr = 0.1, μ = 0.9
# Nesterov's gap first drops below 10⁻⁶ at step 85, heavy-ball momentum's at step 107, and plain
# SGD, which does not zig-zag, is still creeping along the flat x direction (f − f* ≈ 0.005 at step 150).
#
# For these common settings (μ ≥ 0.8) Nesterov gets there no later than heavy-ball momentum —
# it damps the zig-zag across the steep y direction. It is not a law: with a small μ = 0.5 the two
# are within a few steps of each other, and here Nesterov is the slightly slower one.

# %% [markdown]
# ## 6. Adagrad: one learning rate per coordinate, shrinking for ever
#
# Adagrad divides each coordinate's step by the root of its accumulated squared gradients:
#
# r ← r + g²,  w ← w − lr·g / (√r + ε).
#
# Steep coordinates (large g) get small steps, flat ones large steps: every coordinate's first
# step is lr·sign(g), whatever its curvature. That is what Adagrad is good at — it tolerates a
# learning rate at which plain SGD fails (on the ill-conditioned bowl at lr = 0.5, SGD bounces
# across the steep y direction for ever while Adagrad converges). At the small learning rates that
# suit SGD it is *not* good: at the explorer's bowl default lr = 0.1 it ends last of the six
# (f − f* = 1.39 after 100 steps against SGD's 0.036), because its steps start at lr and only shrink.
# r is a sum of squares: it **only grows**, so the effective step lr/(√r + ε) only shrinks, and
# on a long run Adagrad can stop before it arrives.
#
# "Good early, stalls late" needs a surface whose early gradients are large: Rosenbrock's banana
# at lr = 0.5, where SGD and momentum diverge. Adagrad makes the best start of the adaptive
# methods (ahead of Adam and RMSprop at steps 5, 10 and 20); but the large gradients of its first
# steps stay in r for ever, so its step per unit gradient only shrinks (along x from 0.0023 after
# step 1 to 0.0014 at step 1000) while the gradients along the valley floor are small: it creeps.
# Adam's average forgets those first gradients, and Adam overtakes it for good after step 22
# (at step 1000: f − f* = 0.13 against 2·10⁻¹³):

# %%
gaps = ch04.gap_table("rosenbrock", ("adagrad", "rmsprop", "adam"), lr=0.5, checkpoints=(5, 10, 20, 100, 300, 1000))
print("f − f* after step      5        10        20       100       300      1000")
for name, row in gaps.items():
    print(f"{name:9s}       " + "  ".join(f"{v:8.2g}" for v in row))
ch04.plot_trajectories("rosenbrock", {"Adagrad": ("adagrad", {"lr": 0.5}), "Adam": ("adam", {"lr": 0.5})},
                       steps=1000)

# %% [markdown]
# The same preset is one call of the explorer below:
# `ch04.optimizer_explorer(surface="rosenbrock", lr=0.5, steps=1000)`.
#
# ## 7. RMSprop: a decaying average instead of a sum
#
# RMSprop replaces the sum by an exponential moving average with decay α (PyTorch's `alpha`,
# often 0.9–0.99): r ← α·r + (1 − α)·g². Old gradients are forgotten, so when gradients become
# small r falls again and the effective step recovers instead of collapsing.
#
# In the run below the effective step even climbs to about 55 (step 138). That is the same
# forgetting taken to its end: near the minimum the gradients become tiny, r follows them down,
# and lr/√r grows until lr/√r times the curvature (0.2 along x) passes 2, the limit of section 1;
# from then on each step overshoots, x, which had fallen to about 10⁻²⁰ by step 105, grows back out to
# 0.2 by step 139, the large gradient refills r (its jump near step 138) and the step falls again. With a constant lr, RMSprop bursts out of
# a minimum now and then instead of settling in it.

# %%
ada = ch04.optimizer_state_history("ill_conditioned", optim.Adagrad, 200, lr=0.1)
rms = ch04.optimizer_state_history("ill_conditioned", optim.RMSprop, 200, lr=0.1, alpha=0.9)
print("Adagrad r never decreases:", bool(np.all(np.diff(ada["r"], axis=0) >= 0)))
for k in (0, 10, 50, 199):
    print(f"step {k + 1:3d}: effective step (x) Adagrad {ada['effective_lr'][k, 0]:.4f}   RMSprop {rms['effective_lr'][k, 0]:.4f}")
ch04.plot_accumulators("ill_conditioned", lr=0.1, steps=200)

# %% [markdown]
# ## 8. Adam and its bias correction
#
# Adam keeps a moving average of the gradients (m, decay β₁) and of their squares (v, decay β₂):
#
# m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,  m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ),
# w ← w − lr·m̂/(√v̂ + ε).
#
# Both averages start at 0, so early on they are biased towards 0 — m by the factor (1 − β₁ᵗ),
# v by (1 − β₂ᵗ). Dividing by those factors removes the bias. At t = 1, m̂ = g and v̂ = g², so
# the first step is −lr·g/(|g| + ε) ≈ −lr·sign(g): **lr in every coordinate**, whatever the
# gradient's scale. Without the correction it would be lr·(1 − β₁)/√(1 − β₂) ≈ 3.16·lr.

# %%
first = ch04.adam_first_steps(g=[1e-4, 1.0, -50.0, 1e3], lr=0.01)
for g, c, u in zip(first["g"], first["corrected"], first["uncorrected"]):
    print(f"g = {g:9.1e}: first step with bias correction {c: .6f}, without {u: .6f}")

# %% [markdown]
# ## 9. Explorer: six optimizers on four surfaces
#
# Choose a surface (saddle, plateau + saddle, ill-conditioned bowl, Rosenbrock's banana), switch
# the optimizers on and off, and move the learning rate, momentum (Momentum and Nesterov), β₁
# and β₂ (Adam; β₂ is also RMSprop's α), the start point and the number of steps. Every change
# recomputes the six trajectories with `dlcore.surfaces.run_optimizer` and redraws them over the
# contour plot. The right panel shows progress on a log scale: on the three surfaces with a
# minimum the gap f − f* (down is better; values below 10⁻¹⁶, the limit of double precision, are
# drawn at 10⁻¹⁶), on the saddle x² − y², which has no minimum, the distance |y| from the ridge
# (up is escape; a circle marks the step at which f fell below −1). The read-out says, per
# optimizer, when it escaped or how close it got. Each optimizer's checkbox is written in the
# colour of its lines. A new surface resets the start point and lr to values that show it well.
#
# Things to try: on the saddle, start at y = 0.01 and compare SGD with Momentum; on the bowl,
# raise lr until SGD oscillates, then past 2/4 = 0.5 until it diverges; on Rosenbrock compare
# Adam at lr 0.001 with 0.05.

# %%
ch04.optimizer_explorer()


# %% [markdown]
# ## 10. Exercises: one step of each optimizer
#
# Each function takes the weights `w` (an array), the gradient `g` (same shape), the optimizer's
# `state` and the hyperparameters, and returns **a new pair `(w_new, state_new)`** without
# changing `w`, `g` or `state` in place. `state` is a plain `dict`; on the first step it is empty
# (`{}`), and each function stores what it needs for the next step under these keys:
#
# | optimizer | keys of `state` |
# |---|---|
# | SGD with momentum, Nesterov | `"buf"`: the momentum buffer b (shape of w) |
# | Adagrad | `"sum_sq"`: the accumulator r |
# | RMSprop | `"square_avg"`: the moving average r |
# | Adam | `"step"`: the number of steps taken t (an int), `"exp_avg"`: m, `"exp_avg_sq"`: v |
#
# So a run is `state = {}` then `w, state = step_fn(w, g, state, ...)` repeatedly. Each step must
# equal the corresponding `dlcore.optim` (and `torch.optim`) update; do not call `dlcore.optim`
# or `dlcore.surfaces` inside your functions.
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers none of its functions
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch04-sgd_momentum_step-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — SGD with momentum (2 points)
#
# Write `sgd_momentum_step(w, g, state, lr, momentum)`: PyTorch's heavy-ball momentum,
# b ← g on the first step (empty state), else b ← μ·b + g; then w ← w − lr·b. Store b in
# `state["buf"]`. Return `(w_new, state_new)`.

# %% nbgrader={"grade": false, "grade_id": "ch04-sgd_momentum_step-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sgd_momentum_step(w, g, state, lr, momentum):
    """One step of SGD with (heavy-ball) momentum, as torch.optim.SGD(momentum=momentum).

    w, g: arrays of the same shape. state: dict, {} before the first step, else {"buf": b}.
    b <- g on the first step, else b <- momentum * b + g;  w <- w - lr * b.
    Returns (w_new, state_new) with w_new of w's shape and state_new = {"buf": b_new};
    w, g and state are left unchanged.
    """
    ### BEGIN SOLUTION
    g = np.asarray(g, dtype=np.float64)
    buf = g.copy() if "buf" not in state else momentum * state["buf"] + g
    return np.asarray(w, dtype=np.float64) - lr * buf, {"buf": buf}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04-sgd_momentum_step-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_step_against, run_student
from dlcore import optim as O, surfaces as S
forbid = (O.SGD.step, O.Adagrad.step, O.RMSprop.step, O.Adam.step, O.sgd_momentum_notes_step, S.run_optimizer)
w0, g0 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
w_copy, g_copy = w0.copy(), g0.copy()
w1, s1 = run_student(sgd_momentum_step, w0, g0, {}, lr=0.1, momentum=0.9, forbid=forbid)
check_close(w1, [0.95, -2.05], "first step from {}: b = g, w - 0.1 * g")
check_close(s1["buf"], [0.5, 0.5], "state['buf'] after the first step (b = g)")
w2, s2 = run_student(sgd_momentum_step, w1, np.array([1.0, 0.0]), s1, lr=0.1, momentum=0.9, forbid=forbid)
check_close(s2["buf"], [0.9 * 0.5 + 1.0, 0.45], "second step: b = 0.9 * b + g")
check_close(w2, [0.95 - 0.1 * 1.45, -2.05 - 0.1 * 0.45], "second step: w - lr * b")
check_close(w0, w_copy, "w must not be changed in place")
check_close(s1["buf"], [0.5, 0.5], "the state passed in must not be changed in place")

check_step_against(sgd_momentum_step, O.SGD, (3, 4), steps=6, seed=0, forbid=forbid, lr=0.05, momentum=0.9)

### BEGIN HIDDEN TESTS
check_step_against(sgd_momentum_step, O.SGD, (7,), steps=25, seed=11, forbid=forbid, lr=0.3, momentum=0.5)
check_step_against(sgd_momentum_step, O.SGD, (2, 3, 2), steps=12, seed=12, forbid=forbid, lr=1e-3, momentum=0.99)
check_step_against(sgd_momentum_step, O.SGD, (5,), steps=5, seed=13, forbid=forbid, lr=0.1, momentum=0.0)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch04-nesterov_step-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — Nesterov momentum (2 points)
#
# Write `nesterov_step(w, g, state, lr, momentum)`: PyTorch's Nesterov form,
# b ← g on the first step, else b ← μ·b + g; then w ← w − lr·(g + μ·b). Store b in
# `state["buf"]`. Return `(w_new, state_new)`.

# %% nbgrader={"grade": false, "grade_id": "ch04-nesterov_step-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def nesterov_step(w, g, state, lr, momentum):
    """One step of SGD with Nesterov momentum, as torch.optim.SGD(momentum=momentum, nesterov=True).

    w, g: arrays of the same shape. state: dict, {} before the first step, else {"buf": b}.
    b <- g on the first step, else b <- momentum * b + g;  w <- w - lr * (g + momentum * b).
    Returns (w_new, {"buf": b_new}); w, g and state are left unchanged.
    """
    ### BEGIN SOLUTION
    g = np.asarray(g, dtype=np.float64)
    buf = g.copy() if "buf" not in state else momentum * state["buf"] + g
    return np.asarray(w, dtype=np.float64) - lr * (g + momentum * buf), {"buf": buf}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04-nesterov_step-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_step_against, run_student
from dlcore import optim as O, surfaces as S
forbid = (O.SGD.step, O.Adagrad.step, O.RMSprop.step, O.Adam.step, O.sgd_momentum_notes_step, S.run_optimizer)
w0, g0 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
w_copy, g_copy = w0.copy(), g0.copy()
w1, s1 = run_student(nesterov_step, w0, g0, {}, lr=0.1, momentum=0.9, forbid=forbid)
check_close(w1, [1.0 - 0.1 * 0.95, -2.0 - 0.1 * 0.95], "first step from {}: b = g, step lr * (g + 0.9 * b)")
check_close(s1["buf"], [0.5, 0.5], "state['buf'] after the first step (b = g)")
check_close(w0, w_copy, "w must not be changed in place")

def nesterov_reference(params, lr, momentum):
    return O.SGD(params, lr=lr, momentum=momentum, nesterov=True)

check_step_against(nesterov_step, nesterov_reference, (3, 4), steps=6, seed=1, forbid=forbid, lr=0.05, momentum=0.9)

### BEGIN HIDDEN TESTS
check_step_against(nesterov_step, nesterov_reference, (9,), steps=25, seed=21, forbid=forbid, lr=0.2, momentum=0.5)
check_step_against(nesterov_step, nesterov_reference, (2, 2, 3), steps=12, seed=22, forbid=forbid, lr=1e-3, momentum=0.99)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch04-adagrad_step-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 — Adagrad (2 points)
#
# Write `adagrad_step(w, g, state, lr, eps=1e-10)`: r ← r + g² (r starts at 0), then
# w ← w − lr·g/(√r + ε). Store r in `state["sum_sq"]`. Return `(w_new, state_new)`.

# %% nbgrader={"grade": false, "grade_id": "ch04-adagrad_step-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adagrad_step(w, g, state, lr, eps=1e-10):
    """One step of Adagrad, as torch.optim.Adagrad(lr=lr, eps=eps).

    w, g: arrays of the same shape. state: dict, {} before the first step, else {"sum_sq": r}.
    r <- r + g**2 (r = 0 at first);  w <- w - lr * g / (sqrt(r) + eps).
    Returns (w_new, {"sum_sq": r_new}); w, g and state are left unchanged.
    """
    ### BEGIN SOLUTION
    g = np.asarray(g, dtype=np.float64)
    r = state.get("sum_sq", np.zeros_like(g)) + g * g
    return np.asarray(w, dtype=np.float64) - lr * g / (np.sqrt(r) + eps), {"sum_sq": r}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04-adagrad_step-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_step_against, run_student
from dlcore import optim as O, surfaces as S
forbid = (O.SGD.step, O.Adagrad.step, O.RMSprop.step, O.Adam.step, O.sgd_momentum_notes_step, S.run_optimizer)
w0, g0 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
w_copy, g_copy = w0.copy(), g0.copy()
w1, s1 = run_student(adagrad_step, w0, np.array([3.0, -4.0]), {}, lr=0.1, forbid=forbid)
check_close(s1["sum_sq"], [9.0, 16.0], "state['sum_sq'] after one step: g**2")
check_close(w1, [1.0 - 0.1, -2.0 + 0.1], "first step: lr * g / |g| = lr * sign(g)")
check_close(w0, w_copy, "w must not be changed in place")

check_step_against(adagrad_step, O.Adagrad, (3, 4), steps=6, seed=2, forbid=forbid, nondecreasing='sum_sq', lr=0.1, eps=1e-10)

### BEGIN HIDDEN TESTS
check_step_against(adagrad_step, O.Adagrad, (8,), steps=30, seed=31, forbid=forbid, nondecreasing='sum_sq', lr=0.5, eps=1e-6)
check_step_against(adagrad_step, O.Adagrad, (2, 3), steps=10, seed=32, forbid=forbid, nondecreasing='sum_sq', lr=1e-3, eps=1e-10)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch04-rmsprop_step-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 — RMSprop (2 points)
#
# Write `rmsprop_step(w, g, state, lr, alpha=0.99, eps=1e-8)`: r ← α·r + (1 − α)·g² (r starts
# at 0), then w ← w − lr·g/(√r + ε). Store r in `state["square_avg"]`. Return `(w_new, state_new)`.

# %% nbgrader={"grade": false, "grade_id": "ch04-rmsprop_step-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rmsprop_step(w, g, state, lr, alpha=0.99, eps=1e-8):
    """One step of RMSprop, as torch.optim.RMSprop(lr=lr, alpha=alpha, eps=eps).

    w, g: arrays of the same shape. state: dict, {} before the first step, else {"square_avg": r}.
    r <- alpha * r + (1 - alpha) * g**2 (r = 0 at first);  w <- w - lr * g / (sqrt(r) + eps).
    Returns (w_new, {"square_avg": r_new}); w, g and state are left unchanged.
    """
    ### BEGIN SOLUTION
    g = np.asarray(g, dtype=np.float64)
    r = alpha * state.get("square_avg", np.zeros_like(g)) + (1 - alpha) * g * g
    return np.asarray(w, dtype=np.float64) - lr * g / (np.sqrt(r) + eps), {"square_avg": r}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04-rmsprop_step-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_step_against, run_student
from dlcore import optim as O, surfaces as S
forbid = (O.SGD.step, O.Adagrad.step, O.RMSprop.step, O.Adam.step, O.sgd_momentum_notes_step, S.run_optimizer)
w0, g0 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
w_copy, g_copy = w0.copy(), g0.copy()
w1, s1 = run_student(rmsprop_step, w0, np.array([2.0, -2.0]), {}, lr=0.01, alpha=0.75, forbid=forbid)
check_close(s1["square_avg"], [1.0, 1.0], "state['square_avg'] after one step: (1 - 0.75) * g**2")
check_close(w1, [1.0 - 0.02, -2.0 + 0.02], "first step: lr * g / sqrt(0.25 * g**2) = 2 * lr * sign(g)", rtol=1e-6)
check_close(w0, w_copy, "w must not be changed in place")

check_step_against(rmsprop_step, O.RMSprop, (3, 4), steps=6, seed=3, forbid=forbid, lr=0.01, alpha=0.99, eps=1e-8)

### BEGIN HIDDEN TESTS
check_step_against(rmsprop_step, O.RMSprop, (8,), steps=30, seed=41, forbid=forbid, lr=0.1, alpha=0.9, eps=1e-8)
check_step_against(rmsprop_step, O.RMSprop, (2, 5), steps=10, seed=42, forbid=forbid, lr=1e-3, alpha=0.5, eps=1e-4)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch04-adam_step-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 5 — Adam (2 points)
#
# Write `adam_step(w, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8)`: t ← t + 1,
# m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g² (m, v start at 0), m̂ = m/(1 − β₁ᵗ),
# v̂ = v/(1 − β₂ᵗ), w ← w − lr·m̂/(√v̂ + ε). Store `"step"` (t), `"exp_avg"` (m) and `"exp_avg_sq"` (v).
# Return `(w_new, state_new)`.

# %% nbgrader={"grade": false, "grade_id": "ch04-adam_step-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adam_step(w, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Adam, as torch.optim.Adam(lr=lr, betas=(beta1, beta2), eps=eps).

    w, g: arrays of the same shape. state: dict, {} before the first step, else
    {"step": t, "exp_avg": m, "exp_avg_sq": v}.
    t <- t + 1;  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g**2;
    w <- w - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps).
    Returns (w_new, state_new); w, g and state are left unchanged.
    """
    ### BEGIN SOLUTION
    g = np.asarray(g, dtype=np.float64)
    t = state.get("step", 0) + 1
    m = beta1 * state.get("exp_avg", np.zeros_like(g)) + (1 - beta1) * g
    v = beta2 * state.get("exp_avg_sq", np.zeros_like(g)) + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    w_new = np.asarray(w, dtype=np.float64) - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w_new, {"step": t, "exp_avg": m, "exp_avg_sq": v}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04-adam_step-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_step_against, run_student
from dlcore import optim as O, surfaces as S
forbid = (O.SGD.step, O.Adagrad.step, O.RMSprop.step, O.Adam.step, O.sgd_momentum_notes_step, S.run_optimizer)
w0, g0 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
w_copy, g_copy = w0.copy(), g0.copy()
w1, s1 = run_student(adam_step, w0, np.array([1e-3, -1e3]), {}, lr=0.01, forbid=forbid)
check_close(w1, [1.0 - 0.01, -2.0 + 0.01], "first step: bias correction makes it lr * sign(g) in each coordinate", rtol=1e-5)
assert s1["step"] == 1, f"state['step'] after the first step should be 1, got {s1['step']!r}"
check_close(s1["exp_avg"], [1e-4, -1e2], "state['exp_avg'] after one step: (1 - beta1) * g")
check_close(w0, w_copy, "w must not be changed in place")

def adam_reference(params, lr, beta1, beta2, eps):
    return O.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)

check_step_against(adam_step, adam_reference, (3, 4), steps=6, seed=4, forbid=forbid, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)

### BEGIN HIDDEN TESTS
check_step_against(adam_step, adam_reference, (8,), steps=40, seed=51, forbid=forbid, lr=0.1, beta1=0.5, beta2=0.9, eps=1e-8)
check_step_against(adam_step, adam_reference, (2, 3), steps=15, seed=52, forbid=forbid, lr=1e-3, beta1=0.95, beta2=0.9999, eps=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Your optimizers in the explorer
#
# The explorer draws the trajectories of your five step functions as dashed lines over dlcore's
# (same colours). When a dashed line hides its solid twin your step is right; the read-out
# says "matches dlcore" with the largest distance between the two (`student_max_diff_<name>` in
# the explorer's `numbers`). An
# unfinished exercise shows its error in the corner of the contour plot instead.

# %%
ch04.optimizer_explorer(student_fn={"momentum": sgd_momentum_step, "nesterov": nesterov_step,
                                   "adagrad": adagrad_step, "rmsprop": rmsprop_step, "adam": adam_step})

# %% [markdown]
# ## 11. Written questions

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch04-ridge-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Question 1 (2 points).** On the saddle f = x² − y², plain gradient descent started at
# (−1.5, 0) (exactly on the ridge) ends at the saddle point and stays there for ever, while a start at
# (−1.5, 10⁻³) escapes after a few hundred steps at lr = 0.01. Explain both with the update
# y ← (1 + 2·lr)·y, and say why momentum escapes sooner.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch04-ridge-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# The y-gradient is −2y, so each step multiplies y by (1 + 2·lr). From y = 0 it stays exactly 0:
# gradient descent only ever sees the x-direction, where x shrinks by (1 − 2·lr) per step, so it
# converges to the saddle point (0, 0), where the gradient is zero and it stops. From y₀ = 10⁻³ it
# needs about ln(1/y₀)/ln(1.02) ≈ 350 steps at lr = 0.01 for y to reach order 1 — a long stall
# near the saddle, because the escaping gradient is as small as y itself. Momentum accumulates
# the consistent (small) push along y into a growing velocity — with μ = 0.9 the effective step in
# a steady direction is up to lr/(1 − μ) = 10·lr — so y grows much faster per step and the run
# leaves the saddle several times sooner.
#
# **Rubric (2 points).**
# - 1 point — the update y ← (1 + 2·lr)·y: from y = 0 it stays 0 and GD converges to the saddle point along x; from 10⁻³ it needs ≈ ln(1/y₀)/ln(1.02) ≈ 350 steps to reach order 1. Half a point for one of the two starts only.
# - 1 point — momentum accumulates the small, consistent push along y (effective step up to lr/(1 − μ) = 10·lr), so y grows faster and the run escapes several times sooner. Half a point for "momentum builds speed" without saying why it helps here.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch04-adaptive-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Question 2 (2 points).** A network trained with Adagrad stops improving after many epochs
# although its loss is still far from its best; switching to RMSprop with the same initial lr keeps it
# improving. Use the accumulator r of each method to explain why.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch04-adaptive-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# Adagrad's r is the sum of all past squared gradients, so it never decreases and grows roughly
# linearly with the number of steps; its effective step lr/(√r + ε) therefore shrinks like 1/√t for
# ever, whether or not the current gradients are large. After many epochs the steps are too small to
# make progress. RMSprop keeps an exponential moving average of g², which forgets gradients older
# than about 1/(1 − α) steps: r tracks the *recent* gradient size, so the effective step stays at a
# useful level (and grows back when gradients become small) instead of collapsing.
#
# **Rubric (2 points).**
# - 1 point — Adagrad's r is a sum of all past g², it never decreases, so lr/(√r + ε) shrinks (like 1/√t) whatever the current gradients: the steps become too small. Half a point for "the step shrinks" without the reason.
# - 1 point — RMSprop's r is a moving average that forgets gradients older than about 1/(1 − α) steps, so the effective step tracks recent gradients and does not collapse. Half a point for "RMSprop forgets" without relating r to the step size.

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once (every option has one, so a
# wrong choice teaches something too). Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("At the explorer's default (saddle, lr = 0.05), which optimizer escapes the saddle first?", [
    ("SGD", False, "SGD escapes at step 49: y only grows by the factor 1 + 2·lr per step."),
    ("Nesterov", False, "Fast (step 16) but not first."),
    ("RMSprop", True, "Step 1: its first step is lr/√(1 − α)·sign(g) ≈ 1.6 in each coordinate, however small the gradient."),
    ("Adagrad", False, "Adagrad is the last to escape (step 86): its steps start at lr and only shrink."),
], predict="Predict first, then read the explorer's read-out.")

# %%
ask("On the ill-conditioned bowl, plain SGD at lr = 0.5 (= 2/L for the steep direction, L = 4) …", [
    ("converges, slowly", False, "Along y the factor 1 − lr·L is exactly −1: y flips sign every step and never shrinks."),
    ("bounces across y for ever, f − f* stuck at 8", True, "y alternates between +2 and −2, so f − f* = 4/2·2² = 8 at every step."),
    ("diverges", False, "That needs lr > 2/L; at exactly 2/L it neither grows nor shrinks."),
])

# %%
ask("Why does Adagrad's effective step lr/(√r + ε) only ever shrink?", [
    ("r is a running sum of g², which never decreases", True, "Every step adds g² ≥ 0 to r (section 6)."),
    ("its learning rate follows a decay schedule", False, "Adagrad has no schedule: the shrinking comes from r alone."),
    ("its momentum dies away", False, "Adagrad keeps no momentum buffer; RMSprop's average, by contrast, forgets old gradients."),
])

# %%
ask("Adam's first step, with bias correction, is in each coordinate about …", [
    ("lr·sign(g)", True, "At t = 1, m̂ = g and v̂ = g², so the step is lr·g/|g| whatever the gradient's scale."),
    ("lr·g", False, "That is SGD's step; Adam divides by the root of the average of g²."),
    ("3.16·lr", False, "That is the first step *without* bias correction: (1 − β₁)/√(1 − β₂) ≈ 3.16."),
])

# %% [markdown]
# ## Glossary
#
# | English | 中文 |
# |---|---|
# | learning rate | 学习率 |
# | step decay (learning-rate schedule) | 阶梯衰减（学习率调度） |
# | oscillation | 震荡 |
# | divergence | 发散 |
# | curvature | 曲率 |
# | saddle point | 鞍点 |
# | saddle surface | 马鞍面 |
# | plateau | 平台区 |
# | momentum | 动量 |
# | Nesterov momentum | Nesterov 动量 |
# | adaptive learning rate | 自适应学习率 |
# | decay rate | 衰减率 |
# | bias correction | 偏差修正 |
# | ill-conditioned | 病态（条件数大） |
