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
# # Chapter 3 — ReLU instead of sigmoid
#
# **What you will be able to do**
# - draw the sigmoid σ and its derivative σ′ next to ReLU and its derivative, and say why σ′ ≤ 1/4;
# - explain, with numbers, why the gradient reaching the first layer of a deep sigmoid network
#   vanishes (梯度消失 *vanishing gradient*): it is a product of factors each at most 0.25·|w|;
# - measure ReLU's sparsity (稀疏 *sparsity*: the fraction of units that output exactly zero) and
#   the cost of `exp` versus `max`;
# - implement `sigmoid_grad`, `relu_grad` and the gradient of a chain of sigmoid layers.
#
# **Prerequisites**: chapter 1 (the chain rule, σ as an output unit) and chapter 2. Everything
# below computes with `dlcore`, the course's numpy reference library; the exercises ask you to
# write the same functions yourself.
#
# An activation function (激活函数 *activation function*) is the non-linearity a layer applies to
# its pre-activation z = W·a + b. Early networks used the sigmoid σ(z) = 1/(1+e^{−z});
# modern ones mostly use the rectified linear unit ReLU(z) = max(z, 0). This chapter shows why.

# %% nbgrader={"grade": false, "grade_id": "ch03-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
from dlcore import activations, nn
from dlcore.explorers import ch03
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot

# %% [markdown]
# ## 1. σ and σ′ next to ReLU and its derivative
#
# σ′(z) = σ(z)(1 − σ(z)). Since σ(z) ∈ (0, 1), the product p(1 − p) is largest at p = 1/2, i.e. at
# z = 0, where it equals 1/4. Away from 0 it decays like e^{−|z|}. ReLU's derivative is 1 for
# z > 0 and 0 for z < 0 (PyTorch, and `dlcore`, use 0 at z = 0).

# %%
ch03.plot_activations()

# %%
z = np.linspace(-20, 20, 400_001)        # a fine grid that contains 0
d = activations.sigmoid_grad(z)
print(f"max σ'(z) on the grid = {d.max():.6f} at z = {z[d.argmax()]:.4f}")
for v in (0.0, 1.0, 2.0, 3.0, 5.0, 10.0):
    print(f"σ'({v:4.1f}) = {activations.sigmoid_grad(np.array(v)):.3e}    ReLU'({v:4.1f}) = {activations.relu_grad(np.array(v)):.0f}")

# %% [markdown]
# The numbers say: σ′ never exceeds 0.25 and is already below 0.05 at |z| = 3 (a *saturated*
# unit), whereas ReLU′ is exactly 1 for every positive input, however large.

# %% [markdown]
# ## 2. Why the gradient reaching layer 1 vanishes
#
# Take the simplest deep network, a chain of scalar sigmoid units with weights w₁ … wₙ:
#
# a₀ = x,  zₖ = wₖ·aₖ₋₁,  aₖ = σ(zₖ),  y = aₙ.
#
# By the chain rule
#
# ∂y/∂x = ∏ₖ wₖ·σ′(zₖ),   ∂y/∂w₁ = x·σ′(z₁)·∏ₖ₌₂ⁿ wₖ·σ′(zₖ),
#
# so |∂y/∂x| ≤ ∏ₖ 0.25·|wₖ| = 0.25ⁿ·∏|wₖ|. With |w| ≤ 4 every factor is at most 1 and the
# gradient falls at least geometrically with depth. The figure runs real forward and backward
# passes through `dlcore.nn` stacks of `Linear(1, 1)` + `Sigmoid` layers and compares |∂y/∂x|
# with the bound (dashed).

# %%
ch03.plot_chain_gradient(weights=(1.0, 2.0, 4.0), n_max=25)

# %%
for n in (1, 5, 10, 20):
    g1, g4 = (ch03.chain_input_gradient(1.0, np.full(n, w)) for w in (1.0, 4.0))
    print(f"n = {n:2d}: w = 1: |dy/dx| = {abs(g1):.2e} (bound 0.25^n = {0.25 ** n:.2e})   "
          f"w = 4: |dy/dx| = {abs(g4):.2e} (bound 1)")

# %% [markdown]
# Where the notes are loose: "use bigger weights so that 0.25·|w| ≥ 1" does not rescue the sigmoid,
# but what bigger weights do depends on the network, so here is each case.
#
# - **A chain of single units** (the figure): with w = 4 the bound is 1 per layer, yet the measured
#   gradient falls even *faster* than with w = 1 (4·10⁻²³ against 9·10⁻¹⁴ after 20 layers), because
#   a large weight pushes zₖ away from 0 where σ′(zₖ) is far below its peak 0.25 — large weights
#   saturate the units.
# - **A 32-unit-wide stack** (section 5's explorer, depth 10): here a larger weight scale makes
#   layer 1's share of the gradient *larger*, by four orders of magnitude — the ratio layer 1 /
#   last layer is 3.6·10⁻⁶ at scale 1, 4.5·10⁻⁴ at scale 2, 1.5·10⁻² at 4 and 7·10⁻² at 6 (printed
#   below). Each unit sums 32 inputs, so a bigger W amplifies the backward signal more than the
#   saturation (smaller σ′) damps it. It still vanishes: after only 10 layers layer 1 gets 1/15 to
#   1/70 of the last layer's gradient at scale 4–6, the last layer's own gradient shrinks as the
#   units saturate, and the ratio keeps falling with depth.

# %%
for scale in (1.0, 2.0, 4.0, 6.0):
    g = ch03.layer_gradient_norms(10, scale, "sigmoid")["grad_norms"]
    print(f"sigmoid, 32 wide, depth 10, weight scale {scale:3.1f}: layer 1 / last layer = {g[0] / g[-1]:.1e}, "
          f"last layer ‖∂L/∂W‖ = {g[-1]:.2f}")

# %% [markdown]
# ## 3. ReLU's sparsity
#
# For a zero-mean, symmetric pre-activation, ReLU outputs exactly 0 for about half the units: the
# representation is *sparse* (稀疏). The active half passes its gradient through with factor 1.
# In a deep network initialised as He et al. suggest (w ~ N(0, 2/fan_in)) the fraction stays
# near 1/2 in every layer (between about 0.4 and 0.6 below). The flip side: a unit whose input is negative for every example gets
# no gradient at all (a "dead" ReLU).
#
# The study notes add that this sparsity makes units less co-dependent and so reduces overfitting.
# That is a hypothesis (Glorot, Bordes & Bengio, 2011, argue for it), not something this chapter
# measures: the numbers below show only that about half the outputs are exactly zero. Whether a
# network overfits is measured in chapter 6, and there ReLU networks overfit readily — sparsity is
# no substitute for regularisation. Read the notes' claim as a motivation, not a result.

# %%
rng = np.random.default_rng(0)
print(f"fraction of ReLU(z) == 0 for z ~ N(0, 1), 2·10^5 samples: {ch03.relu_sparsity(rng.standard_normal(200_000)):.4f}")
print("per layer of an 8-layer He-initialised ReLU stack:", np.round(ch03.deep_relu_sparsity(rng=rng), 3))
ch03.plot_relu_sparsity(rng=np.random.default_rng(1))

# %% [markdown]
# ## 4. The cost of exp versus max
#
# σ needs an exponential per unit; ReLU a comparison. The notes put the sigmoid's cost in its
# division; the timing below separates the two steps of 1/(1 + e^{−x}): the exponential, and the
# division by 1 + e. Timed on 2·10⁵ float64 values (best of several repeats, milliseconds per call):

# %%
times = ch03.time_activations(n=200_000, repeats=5, number=3, rng=np.random.default_rng(0))
for name, t in times.items():
    print(f"{name:36s} {1e3 * t:7.3f} ms")
ratio = times["np.exp(-x) (the sigmoid's core)"] / times["np.maximum(x, 0) (ReLU)"]
print(f"np.exp / np.maximum: {ratio:.1f}")
exp_t, div_t = times["np.exp(-x) (the sigmoid's core)"], times["1 / (1 + e) (the sigmoid's division)"]
print(f"np.exp / the division: {exp_t / div_t:.1f}")
print(f"ReLU / sigmoid (dlcore forward): {times['dlcore relu'] / times['dlcore sigmoid']:.3f}")

# %% [markdown]
# ReLU's forward costs a small fraction of the sigmoid's (the ratio printed last; the exact
# figures vary with the CPU and with whatever else runs on it). Even a bare vectorised `np.exp`
# is slower than `np.maximum` (the first ratio printed). The division is not where the cost is, as the
# notes suggest: a vectorised division costs about as much as `np.maximum`, several times less than
# the exponential (the second ratio). A sigmoid that stays finite and
# warning-free for every input needs several more passes over the data. The saving matters less than the gradient argument of section 2 (on a
# GPU both are often limited by memory traffic), but it comes for free.

# %% [markdown]
# ## 5. Explorer: vanishing gradients in a deep network
#
# A stack of `depth` × (`Linear(32, 32)` + activation) layers from `dlcore.nn`, weights drawn as
# *weight scale* · N(0, 1/32), a batch of 64 inputs and a fixed random read-out as the loss. Every
# control change runs a real forward and backward pass; the bars are ‖∂L/∂W_k‖ for each layer on a
# log scale, the right panel the mean derivative of the activation in each layer.
#
# The same passes the explorer runs, for the settings worth trying first:

# %%
for act, scale, depth in [("sigmoid", 1.0, 10), ("relu", 2 ** 0.5, 10), ("relu", 1.0, 30), ("relu", 2.0, 30)]:
    g = ch03.layer_gradient_norms(depth, scale, act)["grad_norms"]
    print(f"{act:7s} scale {scale:4.2f} depth {depth}: layer 1 / last layer = {g[0] / g[-1]:.1e}, last layer {g[-1]:.1e}")

# %% [markdown]
# Sigmoid, depth 10: layer 1 gets a few millionths of the last layer's gradient. ReLU with weight
# scale √2 ≈ 1.41: the bars stay level. ReLU with scale 1 or 2 at depth 30: the ratio stays near 1, but
# all layers shrink (10⁻⁵) or grow (10⁴) together — ReLU removes the 0.25 factor, the weight scale still
# has to be right (the idea behind He initialisation, and later batch normalisation 批量归一化). Try them, and the
# sigmoid with weight scale 4–6:

# %%
ch03.vanishing_gradient_explorer()


# %% [markdown]
# ## 6. Exercises
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers only `activations.sigmoid`
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch03-sigmoid_grad-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — `sigmoid_grad` (2 points)
#
# Write `sigmoid_grad(x)` returning σ′(x) = σ(x)(1 − σ(x)) elementwise, for an array `x` of any
# shape (return the same shape). It must be finite for *any* input and emit no warning: a naive
# `np.exp(-x)` overflows for x = −800 and prints a `RuntimeWarning`, and a test cell that prints a
# warning scores 0. Hint: e = exp(−|x|) never overflows, and σ′(x) = e/(1 + e)².
# You may use `numpy`; do not call `dlcore.activations.sigmoid_grad`.

# %% nbgrader={"grade": false, "grade_id": "ch03-sigmoid_grad-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid_grad(x):
    """Derivative of the logistic sigmoid, sigma'(x) = sigma(x) * (1 - sigma(x)).

    x: array of any shape (numbers). Returns an array of the same shape with values in [0, 0.25].
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return e / ((1 + e) * (1 + e))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch03-sigmoid_grad-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_shape, run_student
from dlcore import activations as A
forbid = (A.sigmoid_grad, A.sigmoid_backward)

got = run_student(sigmoid_grad, np.array([0.0, 2.0, -2.0]), forbid=forbid)
check_shape(got, (3,), "sigmoid_grad(x) for x of shape (3,)")
check_close(got[0], 0.25, "sigmoid_grad(0): sigma(0) = 1/2, so sigma'(0) = 1/2 * 1/2")
s2 = 1 / (1 + np.exp(-2.0))
check_close(got[1:], [s2 * (1 - s2)] * 2, "sigmoid_grad(+-2): sigma' is even")
x = np.random.default_rng(3).standard_normal((4, 5)) * 3
check_close(run_student(sigmoid_grad, x, forbid=forbid), A.sigmoid_grad(x),
            "sigmoid_grad on a seeded (4, 5) input, compared with dlcore")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2024)
for shape in [(7,), (2, 3, 4), (1, 1)]:
    x = rng.standard_normal(shape) * 5
    got = run_student(sigmoid_grad, x, forbid=forbid)
    check_shape(got, shape, f"sigmoid_grad for x of shape {shape}")
    check_close(got, A.sigmoid_grad(x), f"sigmoid_grad on random x of shape {shape}")
x = np.array([-800.0, -60.0, 60.0, 800.0])
got = run_student(sigmoid_grad, x, forbid=forbid)
check_close(got, A.sigmoid_grad(x), "sigmoid_grad at large |x| (should be tiny and finite)")
from dlcore.testing import check_gradient
x = rng.standard_normal(6)
check_gradient(lambda v: float(A.sigmoid(v).sum()), x, run_student(sigmoid_grad, x, forbid=forbid),
               "sigmoid_grad as the derivative of sigmoid")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch03-relu_grad-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — `relu_grad` (2 points)
#
# Write `relu_grad(x)` returning the derivative of ReLU elementwise: 1.0 where x > 0 and 0.0
# elsewhere (0 at x = 0 exactly, as PyTorch does), as a new float array of the shape of `x`
# (not a boolean or integer array, and leave `x` itself unchanged).
# Do not call `dlcore.activations.relu_grad`.

# %% nbgrader={"grade": false, "grade_id": "ch03-relu_grad-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def relu_grad(x):
    """Derivative of ReLU(x) = max(x, 0): 1.0 where x > 0, else 0.0 (also at x = 0).

    x: array of any shape (not modified). Returns a new float array of the same shape.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    return (x > 0).astype(np.float64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch03-relu_grad-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_shape, run_student
from dlcore import activations as A
forbid = (A.relu_grad, A.relu_backward)

got = run_student(relu_grad, np.array([-2.0, 0.0, 3.0]), forbid=forbid)
check_shape(got, (3,), "relu_grad(x) for x of shape (3,)")
check_close(got, [0.0, 0.0, 1.0], "relu_grad([-2, 0, 3]): 0 for x <= 0, 1 for x > 0")
x = np.random.default_rng(4).standard_normal((3, 4))
check_close(run_student(relu_grad, x, forbid=forbid), A.relu_grad(x),
            "relu_grad on a seeded (3, 4) input, compared with dlcore")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(99)
for shape in [(10,), (2, 3, 5)]:
    x = rng.standard_normal(shape)
    got = run_student(relu_grad, x, forbid=forbid)
    check_shape(got, shape, f"relu_grad for x of shape {shape}")
    check_close(got, A.relu_grad(x), f"relu_grad on random x of shape {shape}")
x = np.array([-1e300, -1e-300, 0.0, 1e-300, 1e300])
check_close(run_student(relu_grad, x, forbid=forbid), [0, 0, 0, 1, 1], "relu_grad at tiny and huge inputs")
x = rng.standard_normal((3, 3))
x_before = x.copy()
got = run_student(relu_grad, x, forbid=forbid)
assert isinstance(got, np.ndarray) and got.dtype.kind == "f", (
    f"relu_grad: expected a float array, got {type(got).__name__} of dtype {getattr(got, 'dtype', None)}")
assert np.array_equal(x, x_before), "relu_grad changed its input x; return a new array and leave x as it was"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch03-sigmoid_chain_grad-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 — the gradient of a chain of sigmoid layers (4 points)
#
# For the scalar chain of section 2, a₀ = x, zₖ = wₖ·aₖ₋₁, aₖ = σ(zₖ) for k = 1 … n and y = aₙ,
# write `sigmoid_chain_grad(x, w)` that returns the vector of ∂y/∂wₖ for k = 1 … n (shape `(n,)`,
# entry 0 is ∂y/∂w₁). Do a forward pass that keeps every aₖ, then a backward pass from
# ∂y/∂aₙ = 1: ∂y/∂zₖ = ∂y/∂aₖ·σ′(zₖ), ∂y/∂wₖ = ∂y/∂zₖ·aₖ₋₁, ∂y/∂aₖ₋₁ = ∂y/∂zₖ·wₖ.
# You may use `activations.sigmoid` and your own `sigmoid_grad`; do not use `dlcore.nn` or the
# chapter's reference helpers. `w` may hold integers (e.g. `np.array([2, -1, 3])`); the gradients are
# floats all the same. Check your gradient with your own chapter-2 checker before you run the test:
# in a new cell, `from dlcore.workspace import carry; carry("eval_numerical_gradient", "rel_error")` brings your checker from chapter 2.

# %% nbgrader={"grade": false, "grade_id": "ch03-sigmoid_chain_grad-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid_chain_grad(x, w):
    """Gradient of y = a_n with respect to every weight of a scalar sigmoid chain.

    a_0 = x, z_k = w_k * a_{k-1}, a_k = sigmoid(z_k) for k = 1..n, y = a_n.
    x: a float. w: array of shape (n,), n >= 1 (its entries may be integers).
    Returns an array of shape (n,) whose entry k-1 is dy/dw_k.
    """
    ### BEGIN SOLUTION
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    a = [float(x)]
    z = []
    for wk in w:
        z.append(wk * a[-1])
        a.append(float(activations.sigmoid(np.array(z[-1]))))
    grads = np.zeros_like(w)
    da = 1.0
    for k in reversed(range(len(w))):
        dz = da * float(sigmoid_grad(np.array(z[k])))
        grads[k] = dz * a[k]
        da = dz * w[k]
    return grads
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch03-sigmoid_chain_grad-test", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_shape, run_student
from dlcore import activations as A, nn as NN
forbid = (ch03.sigmoid_chain_reference, ch03.chain_input_gradient, NN.Sequential.backward,
          NN.Sigmoid.backward, NN.Linear.backward)

got = run_student(sigmoid_chain_grad, 1.0, np.array([2.0]), forbid=forbid)
check_shape(got, (1,), "sigmoid_chain_grad(1.0, [2.0]) (one layer)")
check_close(got, [A.sigmoid_grad(np.array(2.0)) * 1.0], "one layer: dy/dw_1 = sigma'(w_1 x) * x")
# two layers worked by hand: a1 = sigma(0.5), y = sigma(-1 * a1)
a1 = 1 / (1 + np.exp(-0.5)); s = lambda v: 1 / (1 + np.exp(-v)); ds = lambda v: s(v) * (1 - s(v))
got = run_student(sigmoid_chain_grad, 0.5, np.array([1.0, -1.0]), forbid=forbid)
check_close(got, [ds(-a1) * (-1.0) * ds(0.5) * 0.5, ds(-a1) * a1], "two layers, x = 0.5, w = [1, -1]")
w = np.random.default_rng(5).normal(0, 2, size=6)
check_close(run_student(sigmoid_chain_grad, 0.8, w, forbid=forbid), ch03.sigmoid_chain_reference(0.8, w),
            "six layers on seeded weights, compared with a dlcore.nn backward pass")
### BEGIN HIDDEN TESTS
from dlcore.testing import check_gradient
rng = np.random.default_rng(77)
for n in (3, 12, 25):
    w = rng.normal(0, 1.5, size=n)
    x = float(rng.normal())
    got = run_student(sigmoid_chain_grad, x, w, forbid=forbid)
    check_shape(got, (n,), f"sigmoid_chain_grad for n = {n}")
    check_close(got, ch03.sigmoid_chain_reference(x, w), f"sigmoid_chain_grad for n = {n}", rtol=1e-6, atol=1e-15)
    bound = abs(x) * 0.25 ** n * np.prod(np.abs(w[1:]))
    assert abs(got[0]) <= bound * (1 + 1e-9) + 1e-300, f"|dy/dw_1| = {abs(got[0]):.3e} exceeds the bound {bound:.3e}"
w = rng.normal(0, 1, size=5)
def chain_output(wv):
    a = 0.3
    for wk in wv:
        a = 1 / (1 + np.exp(-wk * a))
    return a
check_gradient(chain_output, w, run_student(sigmoid_chain_grad, 0.3, w, forbid=forbid), "sigmoid_chain_grad")
w = np.array([2, -1, 3])  # integer weights: the gradients are still floats
check_close(run_student(sigmoid_chain_grad, 0.5, w, forbid=forbid), ch03.sigmoid_chain_reference(0.5, w.astype(float)),
            "sigmoid_chain_grad for integer weights [2, -1, 3]")
### END HIDDEN TESTS

# %% [markdown]
# ### Your functions in the explorer
#
# Hand your `sigmoid_grad` and `relu_grad` to the explorer: red × marks show, for each layer, the
# mean of *your* derivative on the same pre-activations, next to dlcore's line. They sit on the
# line when your function is right; an unfinished exercise shows its error in the panel instead.

# %%
ch03.vanishing_gradient_explorer(student_fn={"sigmoid": sigmoid_grad, "relu": relu_grad})

# %% [markdown]
# ## 7. Written questions

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch03-big_weights-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Question 1 (2 points).** A colleague proposes to keep sigmoid units and simply initialise the
# weights large, "so that 0.25·|w| > 1 and the gradient cannot vanish". Using section 2's figure and
# the explorer (sigmoid, weight scale 4–6), say what happens instead and why.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch03-big_weights-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# Large weights push the pre-activations z far from 0, where the sigmoid saturates and σ′(z) is
# much smaller than 0.25 (σ′(5) ≈ 0.007). The per-layer factor |w|·σ′(z) therefore stays below 1
# for most units: in the figure the w = 4 curve still falls with depth although its bound is flat,
# and in the explorer (depth 10, scale 4–6) layer 1's gradient is still one to two orders of
# magnitude below the last layer's. (Full marks also for noting that in the 32-wide explorer a
# larger scale does raise layer 1's share — from 3.6·10⁻⁶ at scale 1 — because each unit sums 32
# inputs; it narrows the gap without closing it.)
# Saturated units also learn slowly themselves. The remedy is a non-saturating activation (ReLU)
# with a scale that keeps signals level (He initialisation), not bigger weights.
#
# **Rubric (2 points).**
# - 1 point — large weights push z away from 0, σ saturates and σ′(z) ≪ 0.25, so |w|·σ′(z) stays below 1 (the w = 4 curve still falls). Half a point for "units saturate" without connecting it to the per-layer factor.
# - 1 point — what the explorer shows: layer 1 still gets one to two orders of magnitude less than the last layer at scale 4–6 (a larger scale raises layer 1's share in the 32-wide stack but does not close the gap), and the remedy is ReLU with the right scale. Half a point for the figure's evidence only.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch03-relu_scale-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Question 2 (2 points).** In the explorer, ReLU with weight scale 1 makes every layer's gradient
# small at depth 30, with scale 2 huge, and only with scale ≈ 1.41 level. Explain why the ratio
# between layer 1 and the last layer stays near 1 in all three cases, yet the norms change by many
# orders of magnitude.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch03-relu_scale-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# ReLU passes its gradient with factor exactly 1 through active units and roughly half the units are
# active, so each layer multiplies signals (forward) and gradients (backward) by about
# scale²/2 in energy (E‖Wa‖² = scale²·‖a‖², and ReLU keeps half of it), i.e. by scale/√2 in norm; that is below 1 for scale 1, above
# 1 for scale 2 and 1 for √2. Since ‖∂L/∂W_k‖ is the product of the backward signal into layer k
# and the forward activation out of layer k−1, the two effects cancel along the depth and every
# layer gets the same size of gradient — but that common size is (scale/√2)^depth times the
# shallow value, so it vanishes or explodes for the whole network together.
#
# **Rubric (2 points).**
# - 1 point — the per-layer factor is about scale/√2 in norm (ReLU passes gradient 1 through the half of units that are active), below 1 at scale 1, above at 2, 1 at √2. Half a point for "it depends on the scale" without the factor.
# - 1 point — why the ratio stays near 1: ‖∂L/∂W_k‖ multiplies the backward signal into layer k by the forward activation out of layer k − 1, and the two effects cancel along the depth, while the common size is (scale/√2)^depth. Half a point for either half.

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once (every option has one, so a
# wrong choice teaches something too). Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("What is the largest value of the sigmoid's derivative σ′(z)?", [
    ("1", False, "That is ReLU's derivative for z > 0; σ′ = σ(1 − σ) is at most 1/4."),
    ("1/4, at z = 0", True, "p(1 − p) is largest at p = 1/2, i.e. z = 0, where it equals 1/4 (section 1)."),
    ("1/2", False, "σ(0) = 1/2, but σ′(0) = 1/2·(1 − 1/2) = 1/4."),
])

# %%
ask("Set the explorer to ReLU, weight scale 1.41, depth 10. The ratio of layer 1's gradient to the last layer's is about …", [
    ("10⁻⁶", False, "That is the sigmoid at weight scale 1: the 0.25 factors multiply up."),
    ("1", True, "ReLU passes gradients with factor 1 and scale √2 keeps the signal's size: the bars stay level."),
    ("10⁴", False, "ReLU at scale 2 makes every layer's gradient huge, but the ratio between layers still stays near 1."),
], predict="Predict first, then set the controls.")

# %%
ask("In the 32-wide sigmoid stack at depth 10, raising the weight scale from 1 to 6 …", [
    ("makes layer 1's share of the gradient smaller", False, "That is the single-unit chain of section 2; in the wide stack it goes the other way."),
    ("raises it by about four orders of magnitude, yet it still vanishes", True, "Layer 1 / last layer goes from 3.6·10⁻⁶ to 7·10⁻²: each unit sums 32 inputs, but the gap is not closed."),
    ("makes every layer's gradient equal", False, "The ratio is still about 1/15 to 1/70 at scale 4–6, and falls further with depth."),
])

# %%
ask("Where does most of the sigmoid's extra cost over ReLU come from?", [
    ("the division 1/(1 + e)", False, "Timed apart in section 4, the division costs about as much as np.maximum."),
    ("the exponential", True, "np.exp costs several times np.maximum or the division (section 4's timings)."),
    ("nowhere: they cost the same", False, "The timings of section 4 show the sigmoid's forward several times slower."),
])

# %% [markdown]
# ## Glossary
#
# | English | 中文 |
# |---|---|
# | activation function | 激活函数 |
# | sigmoid (logistic function) | S 型函数 / 逻辑函数 |
# | rectified linear unit (ReLU) | 修正线性单元 |
# | derivative | 导数 |
# | vanishing gradient | 梯度消失 |
# | exploding gradient | 梯度爆炸 |
# | saturation | 饱和 |
# | sparsity | 稀疏（性） |
# | chain rule | 链式法则 |
# | initialisation | 初始化 |
