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
# # Chapter 1 — Objective functions: mean squared error versus cross-entropy
#
# An **objective function** (目标函数), also called a **loss function** (损失函数), turns the network's
# output and the desired target into one number that training pushes down with **gradient descent**
# (梯度下降). This chapter compares the two classic choices for a **sigmoid output layer** (输出层):
# **mean squared error** (均方误差, MSE) and **cross-entropy** (交叉熵, CE).
#
# **You will be able to**
# - compute both losses and their **gradients** (梯度) for a sigmoid output, by hand and in numpy;
# - explain with numbers why MSE learns slowly when the sigmoid **saturates** (饱和) on the wrong side,
#   while cross-entropy does not — the study notes' "cross-entropy is steeper" made exact;
# - read a loss surface over the weights and see where gradient descent stalls.
#
# **Prerequisites:** derivatives and the chain rule (链式法则), numpy arrays, the sigmoid
# σ(z) = 1 / (1 + e^(−z)).

# %% nbgrader={"grade": false, "grade_id": "ch01-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
from dlcore import activations, losses
from dlcore.explorers import ch01
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot

# %% [markdown]
# ## 1. Two objective functions for one sigmoid output
#
# A single output unit computes a **pre-activation** (加权输入) z = w·x + b and the probability (概率)
# p = σ(z). For a target y ∈ {0, 1} and N samples:
#
# | | loss | gradient with respect to p |
# |---|---|---|
# | MSE | L = (1/N) Σ (pᵢ − yᵢ)² | 2(pᵢ − yᵢ)/N |
# | cross-entropy (binary) | L = −(1/N) Σ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)] | (pᵢ − yᵢ) / (pᵢ(1 − pᵢ)) / N |
#
# Both are zero exactly when p = y. They differ in how hard they punish a wrong answer: MSE never
# exceeds 1 per sample, cross-entropy grows without bound (PyTorch, and `dlcore`, clamp each log at
# −100 so that p = 0 or 1 still gives a finite number).

# %%
p = np.array([0.9, 0.6, 0.1, 0.001])   # predicted probabilities
y = np.array([1.0, 1.0, 1.0, 1.0])     # all four samples are positives
for pi in p:
    print(f"p = {pi:<6} MSE = {losses.mse_loss([pi], [1.0]):.4f}   "
          f"CE = {losses.binary_cross_entropy([pi], [1.0]):.4f}")
print("mean over the batch:  MSE =", round(losses.mse_loss(p, y), 4), "  CE =", round(losses.binary_cross_entropy(p, y), 4))

# %% [markdown]
# The confidently wrong prediction p = 0.001 costs MSE at most 1 (here 0.998) but costs cross-entropy
# 6.9 — and −log p keeps growing as p → 0. Training, though, does not follow the loss value: it follows
# the **gradient with respect to the weights**, which passes through z.
#
# ## 2. The gradient with respect to z: where MSE's vanishes
#
# By the chain rule dL/dz = dL/dp · σ'(z) with σ'(z) = σ(z)(1 − σ(z)) = p(1 − p). For one sample:
#
# - MSE: dL/dz = 2(p − y) · p(1 − p)
# - cross-entropy: dL/dz = (p − y)/(p(1 − p)) · p(1 − p) = **p − y**
#
# The factor σ'(z) cancels for cross-entropy. Below, target y = 1: the left panel shows the two losses
# against z, the right panel the size of their gradients on a log scale.

# %%
ch01.plot_losses_vs_z(y=1.0)

# %% [markdown]
# Where z is very negative the unit is **saturated on the wrong side**: p ≈ 0 while y = 1. The table gives
# the numbers (each row is one sample; every entry computed by `dlcore.losses`). The last column is the
# ratio of the two gradients.

# %%
t = ch01.sigmoid_output_table([-20, -10, -5, -2, 0, 2, 5, 10], y=1.0)
t["ratio"] = t["dmse_dz"] / t["dbce_dz"]
print(ch01.format_table(t, ["z", "p", "sigma_prime", "mse", "dmse_dz", "bce", "dbce_dz", "ratio"]))
print()
print("ratio equals 2·σ'(z) in every row:", np.allclose(t["ratio"], 2 * t["sigma_prime"], rtol=1e-9))
print("largest 2·σ'(z) over z in [-30, 30]:", 2 * activations.sigmoid_grad(np.linspace(-30, 30, 601)).max())

# %% [markdown]
# What the numbers say:
#
# - At z = −10 the output is p = 4.5·10⁻⁵ — as wrong as it can be — yet MSE's gradient is only
#   −9.1·10⁻⁵, because σ'(−10) = 4.5·10⁻⁵. Cross-entropy's gradient is p − 1 = −0.99995: **about 11,000
#   times larger**. At z = −20 the factor is 2.4·10⁸.
# - The ratio is exactly |dMSE/dz| / |dCE/dz| = 2σ'(z) ≤ 2 · 0.25 = 0.5 for every z. So cross-entropy's
#   gradient is always at least twice MSE's, and exponentially larger (≈ e^|z|/2) once the unit
#   saturates. "Steeper" in the notes means precisely this.
# - Saturated on the *right* side (z = 10, p ≈ 1 = y) both gradients are tiny, as they should be: the
#   answer is already correct.
#
# The same holds for y = 0 with the sides swapped:

# %%
t0 = ch01.sigmoid_output_table([10.0], y=0.0)
print(f"y = 0, z = 10: p = {t0['p'][0]:.5f}, dMSE/dz = {t0['dmse_dz'][0]:.3g}, dCE/dz = {t0['dbce_dz'][0]:.5f}")

# %% [markdown]
# ### What it does to training
#
# One sigmoid neuron p = σ(w·x + b) on a small 1-D data set (two overlapping classes), started from the
# bad point (w, b) = (−4, 2), where it classifies almost every point wrongly and saturates. The same
# gradient descent (learning rate 学习率 lr = 1, 200 steps), once on MSE and once on cross-entropy:

# %%
fig, runs = ch01.plot_training(w0=-4.0, b0=2.0, lr=1.0, steps=200)
for k, tr in runs.items():  # columns: w, b, loss, accuracy
    print(f"{k:>3}: accuracy at steps 0/10/50/100/200 = {tr[[0, 10, 50, 100, 200], 3]};  "
          f"first step with accuracy >= 0.9: {int(np.argmax(tr[:, 3] >= 0.9))}")
fig

# %% [markdown]
# The grey lines in the left panel are contours of the cross-entropy loss (labelled with its value);
# both runs are drawn over the same map, so the MSE path can be seen to wander where cross-entropy
# is still high. Cross-entropy reaches 90 % accuracy within a few steps. MSE needs well over a hundred: it creeps out
# of the saturated region and then sits at 50 % accuracy on a flat plateau of its loss surface, which the
# explorer below shows.
#
# ## 3. Explorer: the loss surface over (w, b)
#
# Both surfaces of that same neuron: MSE on the left, cross-entropy on the right; contour maps on top,
# 3-D surfaces below. Move the point (w, b); the red arrow is one gradient-descent step −lr·∇L drawn to
# scale, and the read-out gives both losses and both gradients at the point. A step too short to see
# beside the marker (at the start, MSE's is 0.08 long) is also drawn magnified, dashed and labelled
# "step ×20", so its direction shows; the solid arrow inside the ring is the true step.
#
# Things to try:
# - Start at w = −4, b = 2 (the training start above). Compare the arrow lengths, and |∇L| in the panels.
# - Move to w = −6, b = 6 (everything predicted as class 1 with huge confidence). Where is MSE flat?
# - Near the minimum (w ≈ 4, b ≈ 0) both arrows are short: small gradients are fine when the answer is right.
# - `loss_surface_explorer(data="digits")` uses the real handwritten 0s and 1s (one feature).

# %%
ch01.loss_surface_explorer(w=-4.0, b=2.0)


# %% [markdown]
# ## 4. Exercises
#
# Implement the four functions below in numpy (no loops needed). Each is checked against `dlcore`'s
# reference, which your function must not call. Run the test cell under each exercise; it states how many
# points it is worth. None of your functions may emit a warning (a test that writes to stderr scores 0).
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers only `activations.sigmoid`
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch01-mse_loss-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — `mse_loss` (2 points)
#
# Return the mean squared error L = (1/n) Σᵢ (predᵢ − targetᵢ)² as a Python `float`, where n is the
# number of elements (`pred.size`). `pred` and `target` have the same, arbitrary shape.

# %% nbgrader={"grade": false, "grade_id": "ch01-mse_loss-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mse_loss(pred, target):
    """Mean squared error, as torch.nn.functional.mse_loss.

    Inputs: pred, target – arrays of the same shape (any shape).
    Output: a Python float, (1/n) * sum((pred - target)**2) with n = pred.size.
    """
    ### BEGIN SOLUTION
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    return float(np.mean((pred - target) ** 2))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01-mse_loss-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_shape, run_student
from dlcore.losses import mse_loss as ref_mse_loss

# worked by hand: ((1-1)^2 + (2-0)^2 + (3-0)^2) / 3 = 13/3
got = run_student(mse_loss, np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]), forbid=(ref_mse_loss,))
check_shape(got, (), "mse_loss should return a single number")
assert type(got) is float, f"mse_loss should return a Python float (float(...)), got {type(got).__name__}"
check_close(got, 13 / 3, "mse_loss([1, 2, 3], [1, 0, 0])")
# the mean runs over every element, also of a 2-D input
rng = np.random.default_rng(0)
pred, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
check_close(run_student(mse_loss, pred, target, forbid=(ref_mse_loss,)), ref_mse_loss(pred, target),
            "mse_loss on a seeded (4, 3) input")
print("mse_loss: visible tests passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(101)
for shape in [(1,), (9,), (2, 7), (3, 2, 5)]:
    pred, target = rng.normal(size=shape) * 3, rng.normal(size=shape)
    check_close(run_student(mse_loss, pred, target, forbid=(ref_mse_loss,)), ref_mse_loss(pred, target),
                f"mse_loss on shape {shape}")
check_close(run_student(mse_loss, np.zeros(5), np.zeros(5), forbid=(ref_mse_loss,)), 0.0, "mse_loss of equal arrays")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch01-mse_loss_grad-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — `mse_loss_grad` (2 points)
#
# Return the gradient of `mse_loss` with respect to `pred`: dL/dpredᵢ = 2(predᵢ − targetᵢ)/n, an array of
# `pred`'s shape. Don't forget the 1/n from the mean.

# %% nbgrader={"grade": false, "grade_id": "ch01-mse_loss_grad-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mse_loss_grad(pred, target):
    """Gradient of the mean squared error with respect to pred.

    Inputs: pred, target – arrays of the same shape (any shape).
    Output: array of pred's shape, 2 * (pred - target) / n with n = pred.size.
    """
    ### BEGIN SOLUTION
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    return 2.0 * (pred - target) / pred.size
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01-mse_loss_grad-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_gradient, check_shape, run_student
from dlcore.losses import mse_loss as ref_mse_loss, mse_loss_grad as ref_mse_loss_grad

# worked by hand: 2 * ([1, 2, 3] - [1, 0, 0]) / 3
got = run_student(mse_loss_grad, np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]), forbid=(ref_mse_loss_grad,))
check_shape(got, (3,), "mse_loss_grad of a (3,) input")
check_close(got, [0.0, 4 / 3, 2.0], "mse_loss_grad([1, 2, 3], [1, 0, 0])")
rng = np.random.default_rng(1)
pred, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
got = run_student(mse_loss_grad, pred, target, forbid=(ref_mse_loss_grad,))
check_shape(got, (4, 3), "mse_loss_grad of a (4, 3) input")
check_close(got, ref_mse_loss_grad(pred, target), "mse_loss_grad on a seeded (4, 3) input")
print("mse_loss_grad: visible tests passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(202)
for shape in [(1,), (6,), (3, 4), (2, 2, 3)]:
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    got = run_student(mse_loss_grad, pred, target, forbid=(ref_mse_loss_grad,))
    check_shape(got, shape, f"mse_loss_grad of shape {shape}")
    check_gradient(lambda p: ref_mse_loss(p, target), pred, got, f"mse_loss_grad on shape {shape}")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch01-binary_cross_entropy-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 — `binary_cross_entropy` (3 points)
#
# Return L = −(1/n) Σᵢ [yᵢ·log pᵢ + (1 − yᵢ)·log(1 − pᵢ)] as a Python `float`, for probabilities `p` in
# [0, 1] and targets `y` of the same shape. As in PyTorch, **clamp each log term at −100** — use
# max(log pᵢ, −100) and max(log(1 − pᵢ), −100) — so that p = 0 or p = 1 gives a finite loss.
#
# `np.log(0.0)` is −inf *and* emits a RuntimeWarning, which scores 0 here. Either avoid the zero
# (`np.log(np.maximum(p, np.exp(-100)))` is ≥ −100 already) or silence it with
# `with np.errstate(divide="ignore"):` before clamping.

# %% nbgrader={"grade": false, "grade_id": "ch01-binary_cross_entropy-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def binary_cross_entropy(p, y):
    """Binary cross-entropy of probabilities p against targets y, logs clamped at -100.

    Inputs: p – probabilities in [0, 1], any shape; y – targets in [0, 1] (usually 0 or 1;
            a soft target such as 0.3 counts the same way), same shape as p.
    Output: a Python float, -(1/n) * sum(y*log(p) + (1-y)*log(1-p)) with each log >= -100.
    """
    ### BEGIN SOLUTION
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_1mp = np.maximum(np.log(1.0 - p), -100.0)
    return float(-np.mean(y * log_p + (1.0 - y) * log_1mp))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01-binary_cross_entropy-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_shape, run_student
from dlcore.losses import binary_cross_entropy as ref_bce, binary_cross_entropy_with_logits as ref_bce_logits

forbid = (ref_bce, ref_bce_logits)
# worked by hand: p = 0.5 costs log 2 whatever the target
got = run_student(binary_cross_entropy, np.array([0.5, 0.5]), np.array([1.0, 0.0]), forbid=forbid)
check_shape(got, (), "binary_cross_entropy should return a single number")
assert type(got) is float, f"binary_cross_entropy should return a Python float (float(...)), got {type(got).__name__}"
check_close(got, np.log(2.0), "binary_cross_entropy([0.5, 0.5], [1, 0])")
# worked by hand: -(log 0.8 + log(1 - 0.4)) / 2
check_close(run_student(binary_cross_entropy, np.array([0.8, 0.4]), np.array([1.0, 0.0]), forbid=forbid),
            -(np.log(0.8) + np.log(0.6)) / 2, "binary_cross_entropy([0.8, 0.4], [1, 0])")
# completely wrong and certain: each term is clamped at -100
check_close(run_student(binary_cross_entropy, np.array([0.0, 1.0]), np.array([1.0, 0.0]), forbid=forbid),
            100.0, "binary_cross_entropy([0, 1], [1, 0]) (clamped logs)")
rng = np.random.default_rng(2)
p, y = rng.uniform(0.01, 0.99, size=(5, 2)), (rng.uniform(size=(5, 2)) > 0.5).astype(float)
check_close(run_student(binary_cross_entropy, p, y, forbid=forbid), ref_bce(p, y),
            "binary_cross_entropy on a seeded (5, 2) input")
print("binary_cross_entropy: visible tests passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(303)
for shape in [(1,), (8,), (4, 6), (2, 3, 2)]:
    p, y = rng.uniform(size=shape), (rng.uniform(size=shape) > 0.5).astype(float)
    check_close(run_student(binary_cross_entropy, p, y, forbid=forbid), ref_bce(p, y),
                f"binary_cross_entropy on shape {shape}")
edge_p, edge_y = np.array([0.0, 1.0, 0.0, 1.0, 1e-60, 0.3]), np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.3])
check_close(run_student(binary_cross_entropy, edge_p, edge_y, forbid=forbid), ref_bce(edge_p, edge_y),
            "binary_cross_entropy at p = 0, 1, 1e-60 and a soft target")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch01-sigmoid_bce_grad_z-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 — the gradient of cross-entropy∘sigmoid with respect to z (3 points)
#
# For pre-activations `z` and targets `y` of the same shape, with p = σ(z) and L the binary
# cross-entropy of p (the mean over the n elements), return dL/dz, an array of `z`'s shape.
# Work it out with the chain rule (section 2): the σ'(z) factor cancels and the answer is short.
#
# It must stay correct and warning-free for any z, including z = ±800 where `np.exp(-z)` overflows:
# use `activations.sigmoid`, which is stable. Do not go through `dL/dp · σ'(z)` numerically — at
# p = 0 or 1 that is 0/0.

# %% nbgrader={"grade": false, "grade_id": "ch01-sigmoid_bce_grad_z-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid_bce_grad_z(z, y):
    """Gradient of binary cross-entropy of sigmoid(z) with respect to z.

    Inputs: z – pre-activations, any shape; y – targets in [0, 1] (usually 0 or 1, soft targets allowed), same shape as z.
    Output: array of z's shape, dL/dz = (sigmoid(z) - y) / n with n = z.size.
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return (activations.sigmoid(z) - y) / z.size
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch01-sigmoid_bce_grad_z-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import warnings

import numpy as np
from dlcore.activations import sigmoid as ref_sigmoid
from dlcore.testing import check_close, check_gradient, check_shape, run_student
from dlcore.losses import (binary_cross_entropy_grad as ref_bce_grad,
                           binary_cross_entropy_with_logits as ref_bce_logits,
                           sigmoid_bce_grad_z as ref_grad_z)

forbid = (ref_grad_z, ref_bce_grad)
# worked by hand: z = 0 gives p = 0.5, so dL/dz = (0.5 - y) / 2
got = run_student(sigmoid_bce_grad_z, np.array([0.0, 0.0]), np.array([1.0, 0.0]), forbid=forbid)
check_shape(got, (2,), "sigmoid_bce_grad_z of a (2,) input")
check_close(got, [-0.25, 0.25], "sigmoid_bce_grad_z([0, 0], [1, 0])")
# saturated on the wrong side: the gradient stays near -1 / n, it does not vanish
check_close(run_student(sigmoid_bce_grad_z, np.array([-30.0]), np.array([1.0]), forbid=forbid),
            [ref_sigmoid(np.array([-30.0]))[0] - 1.0], "sigmoid_bce_grad_z at z = -30, y = 1")
rng = np.random.default_rng(3)
z, y = rng.normal(size=(4, 3)) * 3, (rng.uniform(size=(4, 3)) > 0.5).astype(float)
check_close(run_student(sigmoid_bce_grad_z, z, y, forbid=forbid), ref_grad_z(z, y),
            "sigmoid_bce_grad_z on a seeded (4, 3) input")
# z = +-800: an overflow warning counts as a failure here
with warnings.catch_warnings():
    warnings.simplefilter("error", RuntimeWarning)
    z, y = np.array([800.0, -800.0]), np.array([0.0, 1.0])
    check_close(run_student(sigmoid_bce_grad_z, z, y, forbid=forbid), [0.5, -0.5], "sigmoid_bce_grad_z at z = +-800")
print("sigmoid_bce_grad_z: visible tests passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(404)
for shape in [(1,), (7,), (3, 5), (2, 2, 2)]:
    z, y = rng.normal(size=shape) * 4, (rng.uniform(size=shape) > 0.5).astype(float)
    got = run_student(sigmoid_bce_grad_z, z, y, forbid=forbid)
    check_shape(got, shape, f"sigmoid_bce_grad_z of shape {shape}")
    check_gradient(lambda zz: ref_bce_logits(zz, y), z, got, f"sigmoid_bce_grad_z on shape {shape}")
z, y = np.array([700.0, -750.0, 40.0, -40.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0, 0.5])
with warnings.catch_warnings():
    warnings.simplefilter("error", RuntimeWarning)
    check_close(run_student(sigmoid_bce_grad_z, z, y, forbid=forbid), ref_grad_z(z, y),
                "sigmoid_bce_grad_z at z = 700, -750, +-40 and a soft target")
### END HIDDEN TESTS

# %% [markdown]
# Once your losses pass, compare them with the reference inside the explorer: the read-out shows
# your `mse_loss` and `binary_cross_entropy` at the point, and whether they match dlcore's ("not
# solved yet" while unfinished; the numbers are also in `explorer.numbers["student_mse_loss"]` …).

# %%
ch01.loss_surface_explorer(w=-2.0, b=1.0, student_fn={"mse_loss": mse_loss, "binary_cross_entropy": binary_cross_entropy})

# %% [markdown]
# ## 5. Written questions

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch01-saturation-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# **Question 1 (2 points).** A sigmoid output has z = −8 for a sample whose target is y = 1. Using
# numbers from section 2, explain why one gradient-descent step on MSE barely changes this unit's weights
# while a step on cross-entropy changes them substantially. Name the factor of the chain rule responsible,
# and say why it cancels for cross-entropy.
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch01-saturation-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# σ(−8) ≈ 3.4·10⁻⁴, so the output is almost completely wrong. For MSE, dL/dz = 2(p − y)·σ'(z) and
# σ'(−8) = p(1 − p) ≈ 3.4·10⁻⁴, so dL/dz ≈ −6.7·10⁻⁴; every weight gradient dL/dw = dL/dz·x carries that
# tiny factor, so the step is tiny. For cross-entropy, dL/dp = (p − y)/(p(1 − p)) contains exactly
# 1/σ'(z), which cancels the σ'(z) of the chain rule: dL/dz = p − y ≈ −1, about 1/(2σ'(−8)) ≈ 1,500 times
# larger. The responsible factor is the sigmoid's derivative σ'(z), which vanishes when the unit saturates.
#
# **Rubric (2 points).**
# - 1 point — MSE: dL/dz = 2(p − y)·σ′(z) with σ′(−8) ≈ 3.4·10⁻⁴, so the gradient (and every weight gradient, which carries it) is tiny. Half a point for "MSE's gradient is small" without naming the σ′ factor or its size.
# - 1 point — cross-entropy: its 1/(p(1 − p)) cancels σ′(z), dL/dz = p − y ≈ −1, about 1,500 times larger; the factor responsible is σ′(z) of the saturated unit. Half a point for the cancellation without the comparison (or vice versa).

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch01-learning-rate-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# **Question 2 (2 points).** Since |dMSE/dz| = 2σ'(z)·|dCE/dz|, could you make MSE train as well as
# cross-entropy by simply multiplying its learning rate by a large constant, say 1,000? Explain why not,
# using what the factor 2σ'(z) is near z = 0 and far from it.
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch01-learning-rate-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# No. The ratio is not a constant: 2σ'(z) is 0.5 at z = 0 and falls like 2e^(−|z|) as |z| grows. A
# learning rate 1,000 times larger would compensate only near one particular |z| (around z ≈ ±7.6);
# units that are not saturated (|z| small) would then take steps 500 times too large and overshoot or
# diverge, while units saturated further out (z = −20, ratio 4·10⁻⁹) would still barely move. Cross-entropy
# fixes the problem per sample, exactly where it occurs, because the σ'(z) factor cancels for every z.
#
# **Rubric (2 points).**
# - 1 point — no: the ratio 2σ′(z) depends on z (0.5 at z = 0, ~2e^(−|z|) far out), so no single learning rate compensates for every unit. Half a point for "no" with only a vague reason.
# - 1 point — the consequence: a lr large enough for saturated units overshoots or diverges for unsaturated ones (and still misses units saturated further out); cross-entropy fixes it per sample. Half a point for naming only one side.

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once (every option has one, so a
# wrong choice teaches something too). Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("A sigmoid unit has z = −10 for a sample with label y = 1 (confidently wrong). Which loss gives the larger gradient dL/dz?", [
    ("MSE", False, "MSE's gradient carries the factor σ′(z), about 4.5·10⁻⁵ at z = −10: it nearly vanishes exactly when the answer is most wrong."),
    ("cross-entropy", True, "dCE/dz = p − y ≈ −1: the σ′ factor cancels, so the unit gets a full-size push (section 2's table)."),
    ("they are equal", False, "They differ by the factor 2σ′(z), which is tiny at z = −10."),
])

# %%
ask("For a sigmoid output p = σ(z), the gradient of the cross-entropy with respect to z is …", [
    ("2(p − y)·σ′(z)", False, "That is MSE's: the chain rule through the sigmoid leaves σ′(z) in it."),
    ("p − y", True, "∂CE/∂p = (p − y)/(p(1 − p)) and ∂p/∂z = p(1 − p): the two cancel."),
    ("−y/p", False, "That is ∂CE/∂p for y = 1, before the chain rule multiplies by ∂p/∂z = p(1 − p)."),
])

# %%
ask("In the explorer, move the point to (w, b) = (−6, 6), where the neuron gets 30 of the 40 points wrong, 22 of them with a confidence above 0.99. Which surface is flat there?", [
    ("the MSE surface", True, "The confidently wrong points are saturated (σ′ ≈ 0) and MSE's gradient carries σ′: |∇L| = 0.078 there against cross-entropy's 0.96, although three quarters of the points are misclassified."),
    ("the cross-entropy surface", False, "Cross-entropy's gradient is p − y, close to 1 in size on every confidently wrong point: its arrow stays long."),
    ("both", False, "Only MSE's: compare the two arrows and |∇L| in the two panels."),
], predict="Predict first, then move the sliders and compare the arrows.")

# %% [markdown]
# ## Glossary
#
# | English | 中文 |
# |---|---|
# | objective function / loss function | 目标函数 / 损失函数 |
# | mean squared error (MSE) | 均方误差 |
# | cross-entropy | 交叉熵 |
# | sigmoid | S 型函数（sigmoid） |
# | pre-activation z = w·x + b | 加权输入 |
# | output layer | 输出层 |
# | probability | 概率 |
# | gradient | 梯度 |
# | gradient descent | 梯度下降 |
# | chain rule | 链式法则 |
# | saturation | 饱和 |
# | learning rate | 学习率 |
# | weight, bias | 权重，偏置 |
# | loss surface | 损失曲面 |
