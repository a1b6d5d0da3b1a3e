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
# # Chapter 2 — Softmax and cross-entropy for many classes
#
# With more than two classes the **output layer** (输出层) produces one **logit** (未归一化的得分) per
# class, zᵢ, and the **softmax** function (softmax 函数) turns them into **probabilities** (概率):
#
#   pᵢ = softmax(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ).
#
# Training then minimises the **cross-entropy** (交叉熵) L = −log p_y of the true class y.
#
# **You will be able to**
# - show that softmax maps any logits to numbers in (0, 1) that sum to 1 — and say when floating point
#   rounds them to exactly 0 or 1;
# - explain the **overflow** (溢出) of the textbook formula and fix it with the max shift;
# - derive and check that the gradient of cross-entropy∘softmax with respect to the logits is p − y;
# - explain why that pairing trains well, where softmax + mean squared error stalls.
# - check any gradient numerically with central differences and a relative error, with a checker you write;
# - write an affine (fully connected) layer's forward and backward pass, the first layer of a network.
#
# **Prerequisites:** chapter 1 (objective functions 目标函数, the chain rule, saturation), numpy indexing.

# %% nbgrader={"grade": false, "grade_id": "ch02-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
import dlcore.gradcheck
import dlcore.losses
import dlcore.softmax
from dlcore.explorers import ch02
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot

# %% [markdown]
# ## 1. Softmax turns logits into probabilities
#
# Each e^(zᵢ) is positive and the denominator is their sum, so every pᵢ lies strictly between 0 and 1
# and the pᵢ add up to 1; a larger logit always gets a larger probability. Below, 6 rows of 4 random
# logits drawn with standard deviation 6 (so up to about ±14):

# %%
rng = np.random.default_rng(0)
z = rng.normal(size=(6, 4)) * 6
p = dlcore.softmax.softmax(z)          # along the last axis: one distribution per row
with np.printoptions(precision=3):
    print("p =\n", p)
print("smallest p:", p.min(), "  largest p:", p.max())
print("row sums - 1:", p.sum(axis=1) - 1)
print("order kept in every row:", bool((np.argsort(z, axis=1) == np.argsort(p, axis=1)).all()))

# %% [markdown]
# Mathematically the probabilities are never 0 or 1. In float64 they can be: a float has about 16
# significant digits, so once one logit leads the others by more than about 37, its probability rounds
# to exactly 1.0; once a logit trails by more than about 745, e^(zᵢ − max) underflows to exactly 0.0.

# %%
for logits in ([0.0, 40.0], [0.0, 800.0]):
    p = dlcore.softmax.softmax(np.array(logits))
    print(f"softmax({logits}) = {p},  p[1] == 1.0: {p[1] == 1.0},  p[0] == 0.0: {p[0] == 0.0}")

# %% [markdown]
# That is why a loss should never be computed as `log(softmax(z))`: a probability rounded to 0 gives
# log 0 = −∞. `log_softmax` (section 2) computes the logarithm directly.
#
# ## 2. Overflow, and the max-shift fix
#
# The textbook formula breaks long before logits are unreasonable: e^710 already exceeds the largest
# float64 (≈ 1.8·10³⁰⁸), so e^1000 is `inf`, and inf/inf is `nan`. Very negative logits fail the other
# way: every e^(zᵢ) underflows to 0 and 0/0 is `nan`.

# %%
for logits in ([1000.0, 999.0, 998.0], [-1000.0, -999.0, -998.0]):
    t = ch02.overflow_table(logits)
    print(ch02.format_table(t), "\n")

# %% [markdown]
# The fix: subtract m = maxⱼ zⱼ from every logit first. It changes nothing mathematically,
#
#   e^(zᵢ − m) / Σⱼ e^(zⱼ − m) = e^(−m)·e^(zᵢ) / (e^(−m)·Σⱼ e^(zⱼ)) = softmax(z)ᵢ,
#
# but now every exponent is ≤ 0, so every term is ≤ 1 (no overflow), and the largest term is exactly
# e⁰ = 1, so the denominator is ≥ 1 (no 0/0). The `exp_shifted` and `stable` columns above are that
# computation. Softmax is unchanged by *any* constant shift:

# %%
z = np.array([2.0, -1.0, 0.5, 3.0])
print("max |softmax(z) - softmax(z + 123.4)| =", np.abs(dlcore.softmax.softmax(z) - dlcore.softmax.softmax(z + 123.4)).max())
big = np.array([1e4, 0.0, -1e4])
print("log_softmax([1e4, 0, -1e4])   =", dlcore.softmax.log_softmax(big))
with np.errstate(divide="ignore"):
    print("log(softmax([1e4, 0, -1e4]))  =", np.log(dlcore.softmax.softmax(big)))

# %% [markdown]
# `log_softmax` uses the same shift: log pᵢ = (zᵢ − m) − log Σⱼ e^(zⱼ − m). It stays finite (−10⁴, −2·10⁴)
# where the logarithm of the rounded probabilities is −∞.
#
# ### Temperature
#
# Dividing the logits by a **temperature** T > 0 before the softmax sharpens (T < 1) or flattens (T > 1)
# the distribution without changing the order; T → 0 approaches a one-hot "arg max", T → ∞ the uniform
# distribution.

# %%
z = np.array([2.0, 1.0, 0.1, -1.0])
for T in (0.01, 0.25, 1.0, 4.0, 100.0):
    print(f"T = {T:<5}: softmax(z / T) = {dlcore.softmax.softmax(z / T).round(4)}")
ch02.plot_softmax_temperatures(z, temperatures=(0.25, 1.0, 4.0))

# %% [markdown]
# At T = 0.01 the largest logit takes everything (1, 0, 0, 0 to four decimals); at T = 100 every class
# gets about 1/4; in every row the order of the four probabilities is that of the logits.
#
# ## 3. The gradient of cross-entropy∘softmax is p − y
#
# For one sample with true class y, write the loss through the logits:
#
#   L = −log p_y = −z_y + log Σⱼ e^(zⱼ),   so   ∂L/∂z_k = −[k = y] + e^(z_k)/Σⱼ e^(zⱼ) = p_k − y_k,
#
# where y_k is the **one-hot** target (1 for the true class, 0 elsewhere). For a batch of N samples and
# the mean loss, divide by N. Three independent computations agree:
# `formula` (p − y)/N, `chain` (dL/dp = −y/(N·p) pushed back through the softmax Jacobian
# diag(p) − p pᵀ), and `numerical` (central differences of the loss), next to `dlcore`'s `reference`.

# %%
rng = np.random.default_rng(1)
logits, labels = rng.normal(size=(3, 4)) * 3, np.array([0, 3, 1])
g = ch02.gradient_three_ways(logits, labels)
print("(p - y)/N =\n", g["formula"].round(5))
for k in ("chain", "numerical", "reference"):
    print(f"max |{k} - formula| = {np.abs(g[k] - g['formula']).max():.2e}")
print("each row of the gradient sums to", g["formula"].sum(axis=1))

# %% [markdown]
# ## 4. Why softmax and cross-entropy belong together
#
# The gradient p − y has three properties that make training well-behaved:
#
# 1. **It never explodes:** every component lies in [−1, 1] (divided by N for a batch).
# 2. **It does not vanish while the answer is wrong:** the true class's component is p_y − 1, close to −1
#    whenever p_y is small, however confident the wrong answer.
# 3. **It is zero only at the right answer**, and it sums to zero over the classes.
#
# The log in the loss cancels the exponential in the softmax, exactly as cross-entropy cancelled σ'(z) in
# chapter 1. Compare mean squared error on the probabilities, L = mse(p, y): its gradient in the logits
# must pass through the softmax Jacobian diag(p) − p pᵀ, whose entries vanish when the softmax saturates.
# Below the logits are [m, 0, 0] and the true class is 1; a larger margin m is a more confident wrong
# answer. The columns give both losses and the norms of their gradients in the logits.

# %%
print(ch02.format_table(ch02.pairing_table([0, 2, 5, 10, 20])))

# %% [markdown]
# With m = 10 the network gives the true class p = 4.5·10⁻⁵. Cross-entropy's loss is 10 — it grows
# linearly with the margin — and its gradient norm is √2 ≈ 1.414 (the norm of p − y when p is one-hot on
# the wrong class). MSE's loss is capped at 2/3 and its gradient norm is 1.1·10⁻⁴, about 12,000 times
# smaller, falling like e^(−m). A network trained with softmax + MSE that starts confidently wrong barely
# moves; with softmax + cross-entropy it gets the strongest signal exactly there.
#
# ## 5. Explorer: softmax, temperature, cross-entropy and p − y
#
# Move the logits and the temperature; choose the true class (red bar). The read-out gives every
# probability, their sum, the loss −log p_y, and the gradient p − y with respect to the tempered logits
# z/T (with respect to z itself it is (p − y)/T).
#
# Things to try: make the true class's logit the smallest — the loss grows, its gradient bar approaches −1,
# the others share +1. Lower T to 0.1: the largest logit takes nearly all the probability. Add 3 to every
# logit: nothing changes (section 2).

# %%
ch02.softmax_explorer(z0=2.0, z1=1.0, z2=0.1, z3=-1.0, temperature=1.0, true_class=0)


# %% [markdown]
# ## 6. Exercises
#
# Implement the functions in numpy: softmax, log-softmax and cross-entropy (exercises 1–3); a numerical
# gradient checker (exercise 4) that you will use on this chapter's gradient (exercise 5) and on every
# backward pass after it; and the first layer of a network, the affine layer (exercise 6). Each is checked
# against `dlcore`'s reference, which your function must not call. None may emit a warning (a test that writes to stderr scores 0), so the stable
# formulas matter: the tests use logits as large as 10⁴.
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers none of its functions
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-softmax-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — a stable `softmax` (3 points)
#
# Return softmax along the **last axis** of `z` (any shape `(..., C)`), computed with the max shift so
# that logits of any size work: pᵢ = e^(zᵢ − m) / Σⱼ e^(zⱼ − m) with m the maximum over the last axis.
# Hint: `keepdims=True` keeps the shapes broadcastable.

# %% nbgrader={"grade": false, "grade_id": "ch02-softmax-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax(z):
    """Numerically stable softmax along the last axis.

    Input: z – logits, shape (..., C).
    Output: probabilities of shape (..., C); every slice along the last axis sums to 1.
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02-softmax-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.softmax as ref
from dlcore.testing import check_close, check_shape, run_student

forbid = (ref.softmax, ref.log_softmax, ref.softmax_forward, ref.naive_softmax)
# worked by hand: e^0 : e^(log 3) = 1 : 3
got = run_student(softmax, np.array([0.0, np.log(3.0)]), forbid=forbid)
check_shape(got, (2,), "softmax of a (2,) input")
check_close(got, [0.25, 0.75], "softmax([0, log 3])")
# one distribution per row of a 2-D input
rng = np.random.default_rng(0)
z = rng.normal(size=(3, 5)) * 4
got = run_student(softmax, z, forbid=forbid)
check_shape(got, (3, 5), "softmax of a (3, 5) input")
check_close(got, ref.softmax(z), "softmax on a seeded (3, 5) input")
# large logits: the textbook formula would give nan here
check_close(run_student(softmax, np.array([1000.0, 999.0, 998.0]), forbid=forbid),
            ref.softmax(np.array([1000.0, 999.0, 998.0])), "softmax([1000, 999, 998])")
print("softmax: visible tests passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(111)
for shape in [(1,), (7,), (4, 3), (2, 3, 6)]:
    z = rng.normal(size=shape) * 5
    got = run_student(softmax, z, forbid=forbid)
    check_shape(got, shape, f"softmax of shape {shape}")
    check_close(got, ref.softmax(z), f"softmax on shape {shape}")
for z in (np.array([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1.0, -1e4 + 2.0]]), np.array([-800.0, -801.0])):
    check_close(run_student(softmax, z, forbid=forbid), ref.softmax(z), f"softmax of extreme logits {z.tolist()}")
z = rng.normal(size=(3, 4))
check_close(run_student(softmax, z + 50.0, forbid=forbid), ref.softmax(z), "softmax(z + 50) = softmax(z)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-log_softmax-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — `log_softmax` (2 points)
#
# Return log softmax(z) along the last axis, **without** taking the log of probabilities (they may round
# to 0): log pᵢ = (zᵢ − m) − log Σⱼ e^(zⱼ − m), m the maximum over the last axis. Shape `(..., C)` in and out.

# %% nbgrader={"grade": false, "grade_id": "ch02-log_softmax-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def log_softmax(z):
    """Numerically stable log-softmax along the last axis.

    Input: z – logits, shape (..., C).
    Output: log-probabilities of shape (..., C), finite for any finite logits.
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02-log_softmax-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.softmax as ref
from dlcore.testing import check_close, check_shape, run_student

forbid = (ref.softmax, ref.log_softmax, ref.softmax_forward, ref.naive_softmax)
# worked by hand: log 0.25 and log 0.75
got = run_student(log_softmax, np.array([0.0, np.log(3.0)]), forbid=forbid)
check_shape(got, (2,), "log_softmax of a (2,) input")
check_close(got, [np.log(0.25), np.log(0.75)], "log_softmax([0, log 3])")
rng = np.random.default_rng(1)
z = rng.normal(size=(4, 3)) * 4
check_close(run_student(log_softmax, z, forbid=forbid), ref.log_softmax(z), "log_softmax on a seeded (4, 3) input")
# where log(softmax(z)) would be log(0) = -inf
check_close(run_student(log_softmax, np.array([1e4, 0.0, -1e4]), forbid=forbid), [0.0, -1e4, -2e4],
            "log_softmax([1e4, 0, -1e4])")
print("log_softmax: visible tests passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(222)
for shape in [(1,), (6,), (5, 2), (2, 4, 3)]:
    z = rng.normal(size=shape) * 6
    got = run_student(log_softmax, z, forbid=forbid)
    check_shape(got, shape, f"log_softmax of shape {shape}")
    check_close(got, ref.log_softmax(z), f"log_softmax on shape {shape}")
z = np.array([[-1e4, 3.0, 2.0], [500.0, -500.0, 0.0]])
check_close(run_student(log_softmax, z, forbid=forbid), ref.log_softmax(z), "log_softmax of extreme logits")
# rows of very different size: the shift must be each row's own maximum, not the whole array's
far = np.array([[1e4, 1e4 - 1.0, 1e4 - 2.0], [-1e4, -1e4 + 1.0, -1e4 + 2.0]])
check_close(run_student(log_softmax, far, forbid=forbid), ref.log_softmax(far),
            "log_softmax of rows near +1e4 and -1e4 (shift each row by its own maximum)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-cross_entropy-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 — `cross_entropy` (2 points)
#
# For logits of shape `(N, C)` and integer class indices `labels` of shape `(N,)`, return the mean
# cross-entropy L = −(1/N) Σₙ log softmax(logitsₙ)[labelsₙ] as a Python `float` (as
# `torch.nn.functional.cross_entropy`). Use a stable log-softmax — yours from exercise 2 is fine — and
# integer-array indexing `logp[np.arange(N), labels]` to pick each row's true class.

# %% nbgrader={"grade": false, "grade_id": "ch02-cross_entropy-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cross_entropy(logits, labels):
    """Mean softmax cross-entropy of logits against class indices.

    Inputs: logits – shape (N, C); labels – integer class indices, shape (N,).
    Output: a Python float, -(1/N) * sum_n log_softmax(logits[n])[labels[n]].
    """
    ### BEGIN SOLUTION
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(logits.shape[0]), labels].mean())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02-cross_entropy-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_shape, run_student
from dlcore.losses import cross_entropy as ref_ce

forbid = (ref_ce,)
# worked by hand: two equal logits give p = 1/2 for either class, so L = log 2
got = run_student(cross_entropy, np.array([[0.0, 0.0]]), np.array([1]), forbid=forbid)
check_shape(got, (), "cross_entropy should return a single number")
check_close(got, np.log(2.0), "cross_entropy([[0, 0]], [1])")
# worked by hand: logits [0, log 3] -> p = [1/4, 3/4]; true classes 0 and 1 -> mean(-log 1/4, -log 3/4)
check_close(run_student(cross_entropy, np.array([[0.0, np.log(3.0)]] * 2), np.array([0, 1]), forbid=forbid),
            -(np.log(0.25) + np.log(0.75)) / 2, "cross_entropy of logits [0, log 3] for labels [0, 1]")
rng = np.random.default_rng(2)
logits, labels = rng.normal(size=(5, 4)) * 3, rng.integers(0, 4, size=5)
check_close(run_student(cross_entropy, logits, labels, forbid=forbid), ref_ce(logits, labels),
            "cross_entropy on a seeded (5, 4) input")
print("cross_entropy: visible tests passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(333)
for n, c in [(1, 2), (1, 7), (8, 3), (16, 10)]:
    logits, labels = rng.normal(size=(n, c)) * 4, rng.integers(0, c, size=n)
    check_close(run_student(cross_entropy, logits, labels, forbid=forbid), ref_ce(logits, labels),
                f"cross_entropy on ({n}, {c}) logits")
logits, labels = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]]), np.array([2, 1])
check_close(run_student(cross_entropy, logits, labels, forbid=forbid), ref_ce(logits, labels),
            "cross_entropy of logits of magnitude 1e4")
# a Python float, not a 0-d array (np.float64 subclasses float and reaches the grader as a float)
got = run_student(cross_entropy, logits, labels, forbid=forbid)
assert type(got) is float, f"cross_entropy: expected a Python float, got {type(got).__name__} (wrap the result in float(...))"
### END HIDDEN TESTS

# %% [markdown]
# ### Checking a gradient numerically
#
# Every backward pass from here on — this chapter's `cross_entropy_grad`, the affine layer below, the
# sigmoid chain of chapter 3, batch norm, dropout, convolution — can be checked against **central
# differences** (中心差分): nudge one input entry by ±h and watch the loss,
#
#   ∂f/∂xᵢ ≈ (f(x + h eᵢ) − f(x − h eᵢ)) / (2h),
#
# whose error shrinks like h² (the one-sided (f(x + h eᵢ) − f(x)) / h only like h). The two gradients
# are compared by their **relative error** (相对误差), entry by entry, |aᵢ − bᵢ| / (|aᵢ| + |bᵢ|), and
# the largest one is reported. Below, on 4 × 5 logits, the gradient p − y of section 3 against central
# differences, the same gradient with the 1/N forgotten, and the right gradient against one-sided
# differences; then the right gradient again on larger logits (standard deviation 3):

# %%
for label, kw in (("logits ~ N(0, 1)", {}), ("logits ~ N(0, 3²)", {"seed": 3, "scale": 3.0})):
    t = ch02.gradient_check_table(**kw)
    print(f"{label}: p - y {t['correct']:.1e} | 1/N forgotten {t['no_1_over_n']:.2f} | "
          f"one-sided differences {t['forward_difference']:.1e}")
print("worst entry of p - y on the larger logits:", f"{t['worst_entry']:.1e},",
      f"numerical gradient off by {t['worst_abs_diff']:.1e}")


# %% [markdown]
# Read the relative error like this (float64, h = 10⁻⁵): **below 10⁻⁷ the gradient is right**
# (here 2.8·10⁻¹⁰); around 10⁻² or more something is wrong — the forgotten 1/N gives 0.6 in every
# entry, (N − 1)/(N + 1) for N = 4. One-sided differences blur even a right gradient to 2.4·10⁻⁶, which
# is why the checker takes central ones. In between, look at *which* entries differ before you call it a
# bug: on the larger logits the right gradient scores 3.3·10⁻⁴, because its worst entry is 2.7·10⁻⁸ and
# the numerical gradient's rounding error (1.8·10⁻¹¹ there) is large next to so small a number.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-gradcheck-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 — your own gradient checker (2 points: `eval_numerical_gradient` 1, `rel_error` 1)
#
# Write the two functions of CS231n's `gradient_check.py`; you will use them on every backward pass of
# the course (exercise 5 and the affine layer of exercise 6 first).
#
# **`eval_numerical_gradient(f, x, h=1e-5)`.** `f` takes an array shaped like `x` and returns a number;
# `x` is a float array of **any shape** (a vector, a matrix, a stack of images). Return a new float
# array `grad` shaped like `x` with grad[i] = (f(x + h eᵢ) − f(x − h eᵢ)) / (2h) for every index i of
# `x`, using the `h` you are given. Visit every index with `np.ndindex(x.shape)` (a loop over
# `range(len(x))` only walks the first axis); nudge the entry of `x` in place, call `f(x)` on the whole
# array, and put the saved old value back before the next index. When your function returns, `x` must
# hold exactly the values it came with, and `f` must only ever have been called with arrays shaped like
# `x`. The test checks both, and compares your gradient with the exact one of a curved `f` (f(x) =
# Σ xᵢ³ with h = 10⁻², whose central difference is exactly 3xᵢ² + h²), where one-sided differences, a
# step of h instead of 2h, or an ignored `h` all show.

# %% nbgrader={"grade": false, "grade_id": "ch02-eval_numerical_gradient-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def eval_numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of a scalar function f at x.

    Inputs: f – a function of an array shaped like x, returning a number; x – float array, any shape;
    h – the step.
    Output: a new float array shaped like x, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).
    x is nudged in place while the function runs and holds its original values when it returns.
    """
    ### BEGIN SOLUTION
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = float(f(x))
        x[idx] = old - h
        f_minus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02-eval_numerical_gradient-test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.gradcheck as _gc
import dlcore.testing as _dt
from dlcore.testing import check_close, check_shape, run_student

_forbid = (_gc.numerical_gradient, _dt.numerical_gradient, _dt.check_gradient)
# worked by hand: f(x) = x0² + x1² has gradient 2x, and central differences are exact for a quadratic
_x = np.array([1.0, -2.0])
_got = run_student(eval_numerical_gradient, lambda v: float(np.sum(v ** 2)), _x, forbid=_forbid)
check_shape(_got, (2,), "eval_numerical_gradient of f(x) = sum(x**2) at x = [1, -2]")
check_close(_got, [2.0, -4.0], "eval_numerical_gradient of f(x) = sum(x**2) at x = [1, -2]", rtol=1e-8)
check_close(_x, [1.0, -2.0], "x after eval_numerical_gradient returned (put each old value back)", rtol=0, atol=1e-12)
# a matrix: f(W) = sum(W * C) has gradient C
_c = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]])
_got = run_student(eval_numerical_gradient, lambda v: float(np.sum(v * _c)), np.zeros((2, 3)), forbid=_forbid)
check_shape(_got, (2, 3), "eval_numerical_gradient at a (2, 3) x")
check_close(_got, _c, "eval_numerical_gradient of f(W) = sum(W * C) at a (2, 3) W: the gradient is C", rtol=1e-8)
print("eval_numerical_gradient: visible tests passed")
### BEGIN HIDDEN TESTS
_calls = []


def _cubic(v):
    _calls.append(np.shape(v))
    return float(np.sum(np.asarray(v) ** 3))


for _shape, _h in (((5,), 1e-2), ((3, 4), 1e-2), ((2, 3, 2), 1e-3), ((1, 1), 1e-2)):
    _rng = np.random.default_rng(4040 + len(_shape))
    _x0 = _rng.normal(size=_shape)
    _x = _x0.copy()
    _calls.clear()
    _got = run_student(eval_numerical_gradient, _cubic, _x, h=_h, forbid=_forbid)
    check_shape(_got, _shape, f"eval_numerical_gradient at an x of shape {_shape}")
    assert _calls and all(_s == _shape for _s in _calls), \
        f"eval_numerical_gradient at an x of shape {_shape}: f must be called with arrays shaped like x, got {sorted(set(_calls))}"
    check_close(_got, 3 * _x0 ** 2 + _h ** 2, f"eval_numerical_gradient of sum(x**3) with h={_h} at an x of shape {_shape} "
                "(central differences give exactly 3x² + h²)", rtol=1e-7, atol=1e-9)
    check_close(_x, _x0, f"x of shape {_shape} after eval_numerical_gradient returned (it must be restored)", rtol=0, atol=1e-12)
# the default step on a curved function: close to the true gradient cos(x)
_x0 = np.random.default_rng(4050).uniform(-2.0, 2.0, size=(4, 2))
_x = _x0.copy()
_got = run_student(eval_numerical_gradient, lambda v: float(np.sum(np.sin(v))), _x, forbid=_forbid)
check_close(_got, np.cos(_x0), "eval_numerical_gradient of sum(sin(x)) with the default h", rtol=1e-7, atol=1e-9)
check_close(_x, _x0, "x after eval_numerical_gradient with the default h (it must be restored)", rtol=0, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# **`rel_error(a, b)`.** For two arrays of one shape, return the largest elementwise relative error as a
# float:
#
#   rel_error(a, b) = maxᵢ |aᵢ − bᵢ| / max(|aᵢ| + |bᵢ|, 10⁻¹²),
#
# the maximum taken last, over the ratios (not the ratio of two maxima, and not their mean). It is 0 for
# equal arrays and at most 1 where the floor does not act (1 when aᵢ = −bᵢ ≠ 0); the floor 10⁻¹² keeps
# entries that are both 0 from giving 0/0 (a warning, and the test fails). Below 10⁻⁷ means the two
# gradients agree (see the table above).

# %% nbgrader={"grade": false, "grade_id": "ch02-rel_error-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rel_error(a, b):
    """Largest elementwise relative error between two arrays of one shape.

    Inputs: a, b – float arrays of the same shape (any shape).
    Output: a float, max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-12): 0 for equal arrays, at most 1
    where the floor does not act.
    """
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02-rel_error-test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.gradcheck as _gc
from dlcore.testing import check_close, check_shape, run_student

_forbid = (_gc.max_relative_error,)
# worked by hand: |1 - 1.1| / 2.1 and |2 - 2| / 4 -> the largest is 0.1 / 2.1
_got = run_student(rel_error, np.array([1.0, 2.0]), np.array([1.1, 2.0]), forbid=_forbid)
check_shape(_got, (), "rel_error should return a single number")
check_close(_got, 0.1 / 2.1, "rel_error([1, 2], [1.1, 2])", rtol=1e-9)
check_close(run_student(rel_error, np.array([[3.0, -1.0]]), np.array([[3.0, -1.0]]), forbid=_forbid), 0.0,
            "rel_error of two equal arrays")
check_close(run_student(rel_error, np.array([2.0, 1.0]), np.array([-2.0, 1.0]), forbid=_forbid), 1.0,
            "rel_error([2, 1], [-2, 1]): opposite signs give 1")
print("rel_error: visible tests passed")
### BEGIN HIDDEN TESTS
# the largest difference is where a < b: without |.| it would not count
check_close(run_student(rel_error, np.array([[0.5, 1.0], [2.0, 4.0]]), np.array([[0.8, 1.0], [2.0, 4.1]]), forbid=_forbid),
            0.3 / 1.3, "rel_error of a (2, 2) pair whose worst entry has a < b", rtol=1e-9)
# entries of opposite sign: the denominator is |a| + |b|, not |a + b|
check_close(run_student(rel_error, np.array([[0.5, -3.0]]), np.array([[-0.5, -3.3]]), forbid=_forbid), 1.0,
            "rel_error of a (1, 2) pair with entries of opposite sign", rtol=1e-9)
# entries that are both 0 next to one that differs: the floor must keep 0/0 away
check_close(run_student(rel_error, np.zeros((2, 3, 2)), np.zeros((2, 3, 2)), forbid=_forbid), 0.0,
            "rel_error of two zero arrays of shape (2, 3, 2)", atol=1e-15)
_a = np.array([0.0, 0.0, 3.0, 1e-13])
_b = np.array([0.0, 0.0, 3.3, 0.0])
check_close(run_student(rel_error, _a, _b, forbid=_forbid), 1e-13 / 1e-12,
            "rel_error with zero entries and a tiny one (the floor 1e-12 divides there)", rtol=1e-9)
# one bad entry among many good ones: the maximum, not the mean; ratios first, then the maximum
_a = np.ones(50)
_a[17] = 1e-3
_b = _a.copy()
_b[17] = 2e-3
_b[3] = 1.0 + 1e-6
check_close(run_student(rel_error, _a, _b, forbid=_forbid), 1e-3 / 3e-3,
            "rel_error with one small entry that differs by a factor 2 among 50", rtol=1e-9)
_rng = np.random.default_rng(5050)
_a = _rng.normal(size=(3, 4))
_b = _a * (1 + _rng.uniform(-1e-3, 1e-3, size=(3, 4)))
check_close(run_student(rel_error, _a, _b, forbid=_forbid),
            float(np.max(np.abs(_a - _b) / (np.abs(_a) + np.abs(_b)))), "rel_error of a seeded (3, 4) pair", rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-cross_entropy_grad-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 5 — `cross_entropy_grad` (3 points)
#
# Return the gradient of the mean cross-entropy of exercise 3 with respect to the logits: an `(N, C)`
# array equal to (softmax(logits) − onehot(labels)) / N (section 3). Build the one-hot part by
# subtracting 1 at `[np.arange(N), labels]`; your `softmax` from exercise 1 is fine to use. Before you
# run the test, check it with your exercise-4 checker in a cell of your own: for
# `logits = np.random.default_rng(0).normal(size=(4, 5))` and `labels = np.array([1, 0, 4, 2])`,
# `rel_error(cross_entropy_grad(logits, labels), eval_numerical_gradient(lambda z: cross_entropy(z, labels), logits))`
# should be below 10⁻⁷ (it is 4·10⁻¹⁰ for the reference).

# %% nbgrader={"grade": false, "grade_id": "ch02-cross_entropy_grad-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cross_entropy_grad(logits, labels):
    """Gradient of the mean softmax cross-entropy with respect to the logits.

    Inputs: logits – shape (N, C); labels – integer class indices, shape (N,).
    Output: array of shape (N, C), (softmax(logits) - onehot(labels)) / N.
    """
    ### BEGIN SOLUTION
    logits = np.asarray(logits, dtype=np.float64)
    n = logits.shape[0]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    grad = e / e.sum(axis=1, keepdims=True)
    grad[np.arange(n), labels] -= 1.0
    return grad / n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02-cross_entropy_grad-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore.testing import check_close, check_gradient, check_shape, run_student
from dlcore.losses import cross_entropy as ref_ce, cross_entropy_grad as ref_ce_grad

forbid = (ref_ce_grad,)
# worked by hand: logits [0, log 3] -> p = [1/4, 3/4]; true class 0 -> p - y = [-3/4, 3/4]
got = run_student(cross_entropy_grad, np.array([[0.0, np.log(3.0)]]), np.array([0]), forbid=forbid)
check_shape(got, (1, 2), "cross_entropy_grad of (1, 2) logits")
check_close(got, [[-0.75, 0.75]], "cross_entropy_grad([[0, log 3]], [0])")
rng = np.random.default_rng(3)
logits, labels = rng.normal(size=(4, 3)) * 3, rng.integers(0, 3, size=4)
got = run_student(cross_entropy_grad, logits, labels, forbid=forbid)
check_shape(got, (4, 3), "cross_entropy_grad of (4, 3) logits")
check_close(got, ref_ce_grad(logits, labels), "cross_entropy_grad on a seeded (4, 3) input (note the 1/N)")
print("cross_entropy_grad: visible tests passed")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(444)
for n, c in [(1, 2), (1, 6), (5, 3), (9, 10)]:
    logits, labels = rng.normal(size=(n, c)) * 3, rng.integers(0, c, size=n)
    got = run_student(cross_entropy_grad, logits, labels, forbid=forbid)
    check_shape(got, (n, c), f"cross_entropy_grad of ({n}, {c}) logits")
    check_gradient(lambda z: ref_ce(z, labels), logits, got, f"cross_entropy_grad on ({n}, {c}) logits")
logits, labels = np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 1e3]]), np.array([2, 0])
check_close(run_student(cross_entropy_grad, logits, labels, forbid=forbid), ref_ce_grad(logits, labels),
            "cross_entropy_grad of extreme logits")
### END HIDDEN TESTS

# %% [markdown]
# Once your `softmax` passes, the explorer can overlay it (orange marks) on the reference bars:

# %%
ch02.softmax_explorer(z0=3.0, z1=-1.0, z2=0.5, n_classes=3, true_class=1, student_fn=softmax)


# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-affine-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 6 — an affine layer, forward and backward (3 points: forward 1, dx 1, dw and db 1)
#
# The logits so far were given. In a network they come from a **fully connected (affine) layer**
# (全连接层): each of M output units takes a weighted sum of the D inputs plus its bias,
#
#   out = x wᵀ + b,   x: (N, D),  w: (M, D),  b: (M,),  out: (N, M),
#
# with row k of `w` holding the weights of output unit k (the convention of
# `torch.nn.functional.linear` and of `dlcore.linear`). A linear softmax classifier is exactly this
# layer followed by exercise 3's cross-entropy.
#
# **`affine_forward(x, w, b)`** returns `out` alone (an array, not CS231n's `(out, cache)` pair).
#
# **`affine_backward(dout, x, w)`** receives `dout` = ∂L/∂out (N, M) and the forward's inputs and returns
# the tuple `(dx, dw, db)`:
#
#   dx = dout · w  (N, D),   dw = doutᵀ · x  (M, D),   db = Σₙ doutₙ  (M,),
#
# each shaped like the array it is the gradient of. The bias and the weights are shared by the N rows,
# so their gradients are **sums** over the batch, not means (a mean loss already put its 1/N into
# `dout`). Neither function may change its inputs in place. Derive the three formulas from
# outₙₖ = Σ_d xₙ_d w_kd + b_k if they are not obvious, then check your backward with your own checker
# before you run the test: for a fixed `dout`, L(x) = Σ out · dout has gradient dx, so
# `rel_error(dx, eval_numerical_gradient(lambda v: np.sum(affine_forward(v, w, b) * dout), x))`
# should be below 10⁻⁷ (likewise for `w` and `b`). The tests use M ≠ D (a missing transpose then fails),
# a batch of one, and random shapes; the backward's two parts (dx; dw and db) score separately. Calling
# `dlcore.linear` fails the tests.

# %% nbgrader={"grade": false, "grade_id": "ch02-affine_forward-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def affine_forward(x, w, b):
    """Fully connected layer: out = x @ w.T + b.

    Inputs: x – (N, D); w – (M, D), row k the weights of output unit k; b – (M,).
    Output: out – (N, M). x, w and b are left unchanged.
    """
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=np.float64) @ np.asarray(w, dtype=np.float64).T + np.asarray(b, dtype=np.float64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02-affine_forward-test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.linear as _lin
from dlcore.testing import check_close, check_shape, run_student

_forbid = (_lin.linear_forward, _lin.linear_backward)
# worked by hand: x = [1, 2]; unit 0: 3·1 + 4·2 + 0.5 = 11.5, unit 1: 0 − 2 + 0 = −2, unit 2: 1 + 2 − 1 = 2
_x, _w, _b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [0.0, -1.0], [1.0, 1.0]]), np.array([0.5, 0.0, -1.0])
_got = run_student(affine_forward, _x, _w, _b, forbid=_forbid)
check_shape(_got, (1, 3), "affine_forward of x (1, 2), w (3, 2): out is (N, M)")
check_close(_got, [[11.5, -2.0, 2.0]], "affine_forward of the worked example")
_rng = np.random.default_rng(6)
_x, _w, _b = _rng.normal(size=(4, 3)), _rng.normal(size=(5, 3)), _rng.normal(size=5)
_got = run_student(affine_forward, _x, _w, _b, forbid=_forbid)
check_shape(_got, (4, 5), "affine_forward of x (4, 3), w (5, 3)")
check_close(_got, _lin.linear_forward(_x, _w, _b)[0], "affine_forward on seeded x (4, 3), w (5, 3), b (5,)")
print("affine_forward: visible tests passed")
### BEGIN HIDDEN TESTS
for _seed, (_n, _d, _m) in enumerate([(1, 4, 3), (7, 2, 6), (3, 5, 5), (2, 6, 1)]):
    _rng = np.random.default_rng(6060 + _seed)
    _x, _w, _b = _rng.normal(size=(_n, _d)), _rng.normal(size=(_m, _d)), _rng.normal(size=_m) * 3
    _copies = (_x.copy(), _w.copy(), _b.copy())
    _got = run_student(affine_forward, _x, _w, _b, forbid=_forbid)
    check_shape(_got, (_n, _m), f"affine_forward of x ({_n}, {_d}), w ({_m}, {_d})")
    check_close(_got, _lin.linear_forward(*_copies)[0], f"affine_forward on x ({_n}, {_d}), w ({_m}, {_d}), b ({_m},)")
    for _arr, _c, _name in zip((_x, _w, _b), _copies, ("x", "w", "b")):
        check_close(_arr, _c, f"affine_forward must not change {_name} in place", rtol=0, atol=0)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "ch02-affine_backward-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def affine_backward(dout, x, w):
    """Gradients of out = x @ w.T + b.

    Inputs: dout – (N, M), dL/dout; x – (N, D) and w – (M, D), the forward's inputs.
    Output: the tuple (dx, dw, db) of shapes (N, D), (M, D), (M,): dx = dout @ w, dw = dout.T @ x,
    db = dout summed over the batch. dout, x and w are left unchanged.
    """
    ### BEGIN SOLUTION
    dout = np.asarray(dout, dtype=np.float64)
    return dout @ w, dout.T @ x, dout.sum(axis=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch02-affine_backward-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.linear as _lin
from dlcore.testing import check_close, check_gradient, check_shape, part, run_student

_forbid = (_lin.linear_forward, _lin.linear_backward)


def _backward(dout, x, w, what):
    _res = run_student(affine_backward, dout, x, w, forbid=_forbid)
    assert isinstance(_res, tuple) and len(_res) == 3, \
        f"affine_backward {what}: expected a tuple (dx, dw, db), got {type(_res).__name__}"
    return _res


# worked by hand: one sample x = [1, 2], w (3, 2), dout = [1, 0, −1]:
# dx = 1·w₀ − 1·w₂ = [2, 3], dw = outer(dout, x), db = dout
_x, _w, _dout = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [0.0, -1.0], [1.0, 1.0]]), np.array([[1.0, 0.0, -1.0]])
_rng = np.random.default_rng(7)
_xs, _ws, _douts = _rng.normal(size=(4, 3)), _rng.normal(size=(5, 3)), _rng.normal(size=(4, 5))
_rdx, _rdw, _rdb = _lin.linear_backward(_douts, _lin.linear_forward(_xs, _ws, np.zeros(5))[1])
with part(1, "dx"):
    _dx = _backward(_dout, _x, _w, "on the worked example")[0]
    check_shape(_dx, (1, 2), "dx of the worked example (shaped like x)")
    check_close(_dx, [[2.0, 3.0]], "dx of the worked example")
    check_close(_backward(_douts, _xs, _ws, "on a seeded case")[0], _rdx, "dx on seeded x (4, 3), w (5, 3)")
with part(1, "dw and db"):
    _, _dw, _db = _backward(_dout, _x, _w, "on the worked example")
    check_shape(_dw, (3, 2), "dw of the worked example (shaped like w)")
    check_close(_dw, [[1.0, 2.0], [0.0, 0.0], [-1.0, -2.0]], "dw of the worked example")
    check_shape(_db, (3,), "db of the worked example (shaped like b)")
    check_close(_db, [1.0, 0.0, -1.0], "db of the worked example")
    _, _dw, _db = _backward(_douts, _xs, _ws, "on a seeded case")
    check_close(_dw, _rdw, "dw on seeded x (4, 3), w (5, 3)")
    check_close(_db, _rdb, "db on seeded dout (4, 5): a sum over the batch")
print("affine_backward: visible tests passed")
### BEGIN HIDDEN TESTS
for _seed, (_n, _d, _m) in enumerate([(1, 3, 5), (6, 4, 2), (9, 7, 3)]):
    _rng = np.random.default_rng(7070 + _seed)
    _xh, _wh, _bh = _rng.normal(size=(_n, _d)), _rng.normal(size=(_m, _d)), _rng.normal(size=_m)
    _dh = _rng.normal(size=(_n, _m))
    _copies = (_dh.copy(), _xh.copy(), _wh.copy())
    _case = f"x ({_n}, {_d}), w ({_m}, {_d})"
    with part(1, "dx"):
        _dx = _backward(_dh, _xh, _wh, f"on {_case}")[0]
        check_shape(_dx, (_n, _d), f"dx on {_case}")
        check_gradient(lambda v: float(np.sum(_lin.linear_forward(v, _wh, _bh)[0] * _dh)), _xh, _dx, f"dx on {_case}")
    with part(1, "dw and db"):
        _, _dw, _db = _backward(_dh, _xh, _wh, f"on {_case}")
        check_shape(_dw, (_m, _d), f"dw on {_case}")
        check_shape(_db, (_m,), f"db on {_case}")
        check_gradient(lambda v: float(np.sum(_lin.linear_forward(_xh, v, _bh)[0] * _dh)), _wh, _dw, f"dw on {_case}")
        check_gradient(lambda v: float(np.sum(_lin.linear_forward(_xh, _wh, v)[0] * _dh)), _bh, _db, f"db on {_case}")
    # dout, x and w must come back as they went in: both parts check it
    for _pts_what in ("dx", "dw and db"):
        with part(1, _pts_what):
            for _arr, _c, _name in zip((_dh, _xh, _wh), _copies, ("dout", "x", "w")):
                check_close(_arr, _c, f"affine_backward must not change {_name} in place ({_case})", rtol=0, atol=0)
### END HIDDEN TESTS

# %% [markdown]
# **Your layer and your gradient are already a classifier.** An affine layer from the 64 pixels of an
# 8×8 digit to 10 logits, followed by softmax cross-entropy, is a linear softmax classifier. Below it is
# trained with *your* `affine_forward`, `cross_entropy_grad` and `affine_backward` (plain gradient
# descent, learning rate 2, 200 full-batch steps on 1,259 training digits), next to the same training
# with dlcore's references; until your three functions work, only the reference runs.

# %%
ref_run = ch02.linear_softmax_digits()
print(f"reference: loss {ref_run['loss'][0]:.3f} -> {ref_run['loss'][-1]:.3f}, "
      f"train accuracy {ref_run['train_acc']:.1%}, test accuracy {ref_run['test_acc']:.1%}")
my_run = ch02.linear_softmax_digits(forward=affine_forward, backward=affine_backward, loss_grad=cross_entropy_grad)
if my_run["error"] is None:
    print(f"yours:     loss {my_run['loss'][0]:.3f} -> {my_run['loss'][-1]:.3f}, "
          f"test accuracy {my_run['test_acc']:.1%}, largest weight difference from the reference "
          f"{np.abs(my_run['w'] - ref_run['w']).max():.1e}")
else:
    print(f"yours:     not yet ({my_run['error']}): finish exercises 5 and 6 first")

# %% [markdown]
# The loss starts at log 10 ≈ 2.30 (the weights are near 0, so every class gets about 1/10) and falls to
# 0.13; 98.2 % of the training digits and 93.3 % of the 269 test digits are classified right, with one
# weighted sum of the pixels per class. The rest of the course stacks such layers with nonlinearities
# between them (chapter 3) and trains a small CNN on the same digits (chapter 7).

# %% [markdown]
# ## 7. Written questions

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-shift-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# **Question 1 (2 points).** Why does subtracting m = max z from every logit leave the softmax unchanged,
# and why does it rule out both overflow and 0/0? Would subtracting the *mean* of the logits instead be
# just as safe? Give a counterexample or an argument.
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch02-shift-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# softmax(z − c) multiplies numerator and denominator by the same factor e^(−c), which cancels, so any
# constant shift leaves it unchanged. With c = max z every exponent zᵢ − m is ≤ 0, so each term e^(zᵢ−m)
# lies in (0, 1] and cannot overflow, and the term of the largest logit is exactly e⁰ = 1, so the
# denominator is at least 1 and never 0. The mean is not safe: for z = [1000, 0, −1000] the mean is 0,
# so the shift does nothing and e^1000 still overflows to inf (nan result); spread-out logits keep large
# positive exponents after a mean shift.
#
# **Rubric (2 points).**
# - 1 point — the factor e^(−c) multiplies numerator and denominator and cancels, so any constant shift leaves softmax unchanged. Half a point for "it cancels" without saying why.
# - 1 point — why max: every exponent ≤ 0 (no overflow) and the largest term is e⁰ = 1 (denominator ≥ 1, no division by 0); the mean fails, e.g. z = [1000, 0, −1000]. Half a point for the max argument without a counter-example for the mean (or the reverse).

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-pairing-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# **Question 2 (2 points).** A classifier gives its true class the probability p_y = 10⁻⁵ (the wrong class
# has a large logit). Using section 4's table, compare the gradient with respect to the logits under
# softmax + cross-entropy and under softmax + mean squared error. Which property of the cross-entropy
# loss is responsible for the difference?
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch02-pairing-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# With cross-entropy the gradient is p − y: its true-class component is p_y − 1 ≈ −1 and its norm is
# about √2 ≈ 1.41 — a full-size signal. With MSE the gradient is the softmax Jacobian (diag(p) − p pᵀ)
# applied to 2(p − y)/C; every entry of the Jacobian contains a factor p_i or p_y, which are ≈ 0 or ≈ 1,
# so the product is tiny (about 10⁻⁴ at p_y ≈ 4.5·10⁻⁵ in the table) and shrinks like e^(−margin). The log
# in cross-entropy undoes the exponential of the softmax (−log p_y = −z_y + log Σ e^(zⱼ)), so the loss
# grows linearly in the margin and its gradient does not saturate.
#
# **Rubric (2 points).**
# - 1 point — cross-entropy's gradient p − y has a true-class entry ≈ −1 (norm ≈ √2): a full-size signal. Half a point for "large gradient" without the formula.
# - 1 point — MSE's gradient goes through the softmax Jacobian, whose entries carry factors p_i ≈ 0 or ≈ 1, so it is tiny and shrinks like e^(−margin); the log undoes the exponential. Half a point for "MSE saturates" without the Jacobian or the log argument.

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once (every option has one, so a
# wrong choice teaches something too). Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("Adding the same constant c to every logit changes the softmax probabilities how?", [
    ("not at all", True, "e^(z + c) = e^c·e^z: the factor e^c is in the numerator and the denominator and cancels. That is why subtracting max z is safe."),
    ("the largest probability grows", False, "Every exponential is multiplied by the same e^c, so the ratios do not move."),
    ("every probability is multiplied by e^c", False, "Then they would no longer sum to 1: the denominator grows by the same factor."),
])

# %%
ask("Predict, then move the temperature slider far to the right (large T). The probabilities …", [
    ("approach the uniform 1/K", True, "z/T shrinks towards 0 for every class, so the exponentials become equal."),
    ("become one-hot on the largest logit", False, "That happens as T → 0, when the largest z/T dominates."),
    ("do not change", False, "T divides the logits before the softmax, so it changes every probability (the sliders show it)."),
], predict="Decide first, then move the slider.")

# %%
ask("The gradient of cross-entropy∘softmax with respect to the (scaled) logits is …", [
    ("p − y", True, "Section 3: the softmax Jacobian and −1/p_y combine into p − y; its entries sum to 0."),
    ("−1/p_y in the true class, 0 elsewhere", False, "That is the gradient with respect to p, before the softmax's Jacobian is applied."),
    ("p(1 − p)", False, "That is the derivative of a single sigmoid, not of cross-entropy with softmax."),
])

# %% [markdown]
# ## Glossary
#
# | English | 中文 |
# |---|---|
# | softmax | softmax 函数（归一化指数函数） |
# | logit | 未归一化的得分（logit） |
# | probability distribution | 概率分布 |
# | cross-entropy | 交叉熵 |
# | one-hot vector | 独热向量 |
# | output layer | 输出层 |
# | overflow / underflow | 溢出 / 下溢 |
# | numerical stability | 数值稳定性 |
# | temperature | 温度 |
# | gradient | 梯度 |
# | Jacobian | 雅可比矩阵 |
# | saturation | 饱和 |
# | mean squared error | 均方误差 |
# | central difference | 中心差分 |
# | relative error | 相对误差 |
# | fully connected (affine) layer | 全连接层 |
