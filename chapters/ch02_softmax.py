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
# Implement the four functions in numpy. Each is checked against `dlcore`'s reference, which your function
# must not call. None may emit a warning (a test that writes to stderr scores 0), so the stable
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

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch02-cross_entropy_grad-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 — `cross_entropy_grad` (3 points)
#
# Return the gradient of the mean cross-entropy of exercise 3 with respect to the logits: an `(N, C)`
# array equal to (softmax(logits) − onehot(labels)) / N (section 3). Build the one-hot part by
# subtracting 1 at `[np.arange(N), labels]`; your `softmax` from exercise 1 is fine to use.

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
