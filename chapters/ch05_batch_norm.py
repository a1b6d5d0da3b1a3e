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
# # Chapter 5 — Batch normalization (批量归一化)
#
# A deep network is a long chain of layers, and each layer sees inputs whose scale was set by
# every layer before it. **Batch normalization** (批量归一化) rescales each feature of a layer's
# input using the statistics of the current **mini-batch** (小批量): subtract the batch **mean**
# (均值), divide by the batch **standard deviation** (the square root of the **variance**, 方差),
# then let the network **scale** (缩放) and **shift** (平移) the result with two learned vectors
# γ and β.
#
# **What you will be able to do**
# - compute batch norm's forward pass by hand and with `dlcore`, and show that γ and β can undo it;
# - explain training mode (batch statistics) versus evaluation mode (running statistics);
# - measure what batch norm does to a deep network's activations and to its training;
# - say what is known and what is still debated about *why* batch norm helps;
# - implement `batch_norm_forward` and `batch_norm_backward` yourself.
#
# **Prerequisites**: chapter 3 (ReLU, vanishing signals and gradients in deep chains, 梯度消失) and chapter 4 (SGD with
# momentum 动量, the learning rate 学习率).
#

# %% nbgrader={"grade": false, "grade_id": "ch05-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
import dlcore.batchnorm as bn
from dlcore import nn
from dlcore.data import load_digits
from dlcore.explorers import ch05
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot

# %% [markdown]
# ## 1. Statistics of a mini-batch
#
# Take a mini-batch of $N$ examples with $D$ features, $x \in \mathbb{R}^{N\times D}$. For every
# feature $j$ batch norm (in training mode) computes
#
# $$\mu_j = \frac1N\sum_{n} x_{nj},\qquad \sigma_j^2 = \frac1N\sum_n (x_{nj}-\mu_j)^2,\qquad
# \hat x_{nj} = \frac{x_{nj}-\mu_j}{\sqrt{\sigma_j^2+\varepsilon}},\qquad y_{nj} = \gamma_j\,\hat x_{nj} + \beta_j .$$
#
# The variance divides by $N$ (the *biased* estimate), exactly as PyTorch does in training; the
# small $\varepsilon = 10^{-5}$ keeps the division finite when a feature is constant in the batch.
#
# Here is a batch of 64 real handwritten digits; we look at three of its 64 pixels, which have
# very different means and spreads.
#

# %%
X, y = load_digits()
rng = np.random.default_rng(0)
batch = X[rng.choice(len(X), size=64, replace=False)][:, [19, 27, 43]]   # (N, D) = (64, 3)

mu, var = batch.mean(axis=0), batch.var(axis=0)                           # biased variance, as in training
x_hat, _ = bn.batch_norm_forward(batch, gamma=np.ones(3), beta=np.zeros(3))
gamma, beta = np.array([2.0, 0.5, 1.0]), np.array([1.0, -1.0, 0.0])
out, _ = bn.batch_norm_forward(batch, gamma, beta)

rows = {"batch mean μ": mu, "batch variance σ²": var, "mean of x̂": x_hat.mean(axis=0),
        "variance of x̂": x_hat.var(axis=0), "mean of γx̂+β (= β)": out.mean(axis=0), "std of γx̂+β (≈ |γ|)": out.std(axis=0)}
print(f"{'feature:':>22s}   19       27       43")
for name, v in rows.items():
    print(f"{name:22s}", np.round(v, 6))

# %% [markdown]
# After normalisation every feature has mean 0 (to rounding, about $10^{-16}$) and variance
# $\sigma^2/(\sigma^2+\varepsilon)$, which is 1 up to $\varepsilon/\sigma^2$ (here below $10^{-3}$). The
# scale and shift then put the mean at β and the standard deviation at |γ|. The picture shows
# two of the features through the three steps:
#

# %%
ch05.plot_normalize_steps(batch, x_hat, out, features=(0, 1), names=("pixel 19", "pixel 27"))

# %% [markdown]
# ## 2. Nothing is lost: γ and β can undo the normalisation
#
# If batch norm could only produce mean-0, variance-1 features it would limit what a layer can
# express (a sigmoid fed only values near 0 stays in its linear part). That is why γ and β are
# learned. Choose $\gamma = \sqrt{\sigma^2+\varepsilon}$ and $\beta = \mu$:
#
# $$\gamma\,\hat x + \beta = \sqrt{\sigma^2+\varepsilon}\,\frac{x-\mu}{\sqrt{\sigma^2+\varepsilon}} + \mu = x .$$
#
# So the layer *can* learn the identity: adding batch norm never removes a function the network
# could represent. Checked numerically on the same batch:
#

# %%
restored, _ = bn.batch_norm_forward(batch, gamma=np.sqrt(var + 1e-5), beta=mu)
print("largest |restored − x| =", np.abs(restored - batch).max())

# %% [markdown]
# The difference is zero here, and never more than floating-point rounding (about $10^{-16}$): the input comes back.
#
# ## 3. Training mode and evaluation mode
#
# In **training** the statistics come from the current mini-batch, so an example's output depends
# on which other examples share its batch — and a batch of one example cannot be normalised at
# all (its variance is 0). After training we want a prediction for one image that does not depend
# on its neighbours. So the layer also keeps **running statistics**, an exponential moving average
# updated at every training step, as `torch.nn.BatchNorm1d` does with `momentum = 0.1`:
#
# $$\hat\mu \leftarrow 0.9\,\hat\mu + 0.1\,\mu_B, \qquad \hat\sigma^2 \leftarrow 0.9\,\hat\sigma^2 + 0.1\,\tfrac{N}{N-1}\,\sigma^2_B ,$$
#
# and in **evaluation** mode (`layer.eval()`) it uses $\hat\mu,\hat\sigma^2$ instead of the batch's.
# (PyTorch records the unbiased variance, the factor $N/(N-1)$, but normalises each training batch
# with the biased one.) Below, a `dlcore.nn.BatchNorm1d` layer sees 150 training batches of 32
# digits; its running mean settles near the mean over all the data while the batch means jump
# around it.
#

# %%
layer = nn.BatchNorm1d(3)
pixels = X[:, [19, 27, 43]]
batch_means, running_means = [], []
for step in range(150):
    b = pixels[rng.choice(len(pixels), size=32, replace=False)]
    layer.forward(b)                                   # training mode: batch statistics
    batch_means.append(b.mean(axis=0))
    running_means.append(layer.running_mean.copy())
print("running mean after 150 steps:", np.round(layer.running_mean, 3))
print("mean over all 1797 digits:   ", np.round(pixels.mean(axis=0), 3))
ch05.plot_running_stats(np.array(batch_means), np.array(running_means), pixels.mean(axis=0), feature=0)

# %%
one = pixels[:1]                                        # a single example
in_batch_a = np.vstack([one, pixels[1:32]])
in_batch_b = np.vstack([one, pixels[100:131]])
layer.train()
print("training mode, same example in two batches:", layer.forward(in_batch_a)[0].round(3), layer.forward(in_batch_b)[0].round(3))
layer.eval()
print("eval mode,     same example in two batches:", layer.forward(in_batch_a)[0].round(3), layer.forward(in_batch_b)[0].round(3))
print("eval mode,     the example alone:          ", layer.forward(one)[0].round(3))
layer.train()
try:
    layer.forward(one)
except ValueError as err:
    print("training mode, batch of one →", err)

# %% [markdown]
# In training mode the same digit gets two different outputs depending on its batch; in
# evaluation mode it gets one answer, alone or in any batch. Forgetting `model.eval()` before
# predicting is a classic bug for exactly this reason.
#
# ## 4. A deeper network on real digits, with and without batch norm
#
# Now a network with 8 hidden layers of 64 units (`Linear → [BatchNorm1d] → ReLU`, then a
# 10-way linear output) on the real digits, 1,400 for training and 397 for validation, SGD with
# momentum 0.9, 10 epochs. Each pair of runs starts from the same weights and sees the same
# batches; only the batch-norm layers differ. Three situations:
#
# * PyTorch's default initialisation (weights of variance $1/(3\,\mathrm{fan}_\mathrm{in})$, so each ReLU layer
#   shrinks the signal), learning rate 0.05;
# * He initialisation (variance $2/\mathrm{fan}_\mathrm{in}$, which keeps the signal's scale) at learning
#   rates 0.01 and 0.2.
#
# (The cell trains 6 networks in a few seconds.)
#

# %%
settings = [("default", 0.05), ("he", 0.01), ("he", 0.2)]
runs = {(init, lr, use_bn): ch05.train_digits_mlp(use_bn, lr, init=init, epochs=10)
        for init, lr in settings for use_bn in (False, True)}
print(f"{'init':8s} {'lr':>5s} | {'final loss':>10s} {'val acc':>8s} | {'final loss':>10s} {'val acc':>8s}")
print(f"{'':14s} | {'without BN':>19s} | {'with BN':>19s}")
for init, lr in settings:
    a, b = runs[(init, lr, False)], runs[(init, lr, True)]
    print(f"{init:8s} {lr:5.2f} | {a['loss'][-1]:10.3f} {a['val_acc']:8.3f} | {b['loss'][-1]:10.3f} {b['val_acc']:8.3f}")
ch05.plot_loss_curves({f"{init} init, lr {lr}": {"without BN": runs[(init, lr, False)]["loss"],
                                                 "with BN": runs[(init, lr, True)]["loss"]}
                       for init, lr in settings})

# %% [markdown]
# What the numbers say:
#
# * With the default initialisation the plain 8-layer network does not learn at all in 10 epochs
#   (its loss stays at $\ln 10 \approx 2.30$, chance level): the signal shrinks layer after layer,
#   and so does the gradient. With batch norm the same network, same weights, trains to about 97%
#   validation accuracy.
# * With He initialisation and a small learning rate the plain network trains too — a good
#   initialisation alone fixes the scale problem (batch norm still ends slightly better).
# * At learning rate 0.2 the plain network fails (its loss returns to chance), while the batch-norm
#   network still trains: batch norm tolerates a much larger range of learning rates.
#
# ### What is known, and what is debated
#
# Your notes say batch norm works by "removing the burden of re-choosing the descent method at
# every iteration". That is a loose reading and worth correcting kindly: you still choose an
# optimizer and a learning rate (once, as always). What batch norm measurably does is make
# training **much less sensitive** to that choice and to the weight initialisation — the table
# above shows both.
#
# *Why* it helps is still argued about:
#
# * **The original claim** (Ioffe & Szegedy, 2015) was that it reduces *internal covariate shift*:
#   each layer's input distribution keeps changing as earlier layers learn, and fixing its mean and
#   variance removes that moving target.
# * **Santurkar, Tsipras, Ilyas & Mądry (2018), "How does batch normalization help optimization?"**
#   tested this. They injected random, time-varying noise *after* the batch-norm layers — deliberately
#   re-creating the shift — and the networks still trained almost as well as with plain batch norm,
#   far better than without it. They also measured that batch norm makes the loss and its gradient
#   change more smoothly (smaller Lipschitz constants: the gradient at one point predicts the loss
#   a step away better), which is what allows the larger learning rates we just saw.
# * Other effects are known too: the batch statistics add noise (a mild regularisation), and with
#   batch norm the loss no longer depends on the scale of the weights feeding into it, which
#   changes the effective learning rate as the weights grow.
#
# So: *that* batch norm speeds up and stabilises training of deep networks is well established; the
# "internal covariate shift" explanation is doubted, and the smoother-landscape account is the best
# supported one today, not a closed question.
#
# ## 5. Explorer: activations layer by layer
#
# The explorer pushes one batch of random inputs through a stack of linear layers (100 units each,
# weights $W_l = s\cdot\mathcal N(0,1)/\sqrt{\mathrm{fan}_\mathrm{in}}$ for the **weight scale** $s$) twice:
# plain (`linear → activation`) and with batch norm (`linear → batch norm → activation`, γ = 1,
# β = 0), the *same* weights. Each row is one layer's histogram of activations; the right panel
# shows their standard deviation per layer.
#
# Try: tanh with weight scale 0.3 (the plain stack's activations collapse towards 0, a factor per
# layer); weight scale 3 (they saturate at ±1); ReLU with scale 1 (the signal halves in variance
# per layer) and with scale 3 (it explodes). With batch norm every layer looks the same whatever the
# scale. Then shrink the batch size to 2–4: the batch statistics become so noisy that batch norm's
# output is jumpy, which is one reason it behaves badly with tiny batches.
#

# %%
ch05.batchnorm_explorer()


# %% [markdown]
# Once you have solved exercise 1 below, `ch05.batchnorm_explorer(student_fn=batch_norm_forward)`
# adds a line for the per-layer standard deviation your function gives (it should lie on the
# green one).
#
# ## 6. Exercises
#
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers none of its functions
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch05-bn-forward-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — `batch_norm_forward` (training mode) · 4 points
#
# Write `batch_norm_forward(x, gamma, beta, eps=1e-5)` for `x` of shape `(N, D)`: per feature,
# the batch mean μ, the **biased** variance σ² (divide by N), $\hat x = (x-\mu)/\sqrt{\sigma^2+\varepsilon}$
# and return `out = gamma * x_hat + beta`, of shape `(N, D)`. Return only `out` (not a cache), and
# leave `x`, `gamma` and `beta` unchanged (do not centre or scale `x` in place).
#
# Use numpy only; calling `dlcore.batchnorm.batch_norm_forward` is detected and fails the test.
# The visible tests check the shape, a 2×2 case worked by hand, and agreement with `dlcore` on a
# seeded input; hidden tests add random shapes, a different `eps`, and a constant feature.
#

# %% nbgrader={"grade": false, "grade_id": "ch05-bn-forward-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batch_norm_forward(x, gamma, beta, eps=1e-5):
    """Batch normalisation with batch statistics (training mode).

    x: (N, D) mini-batch; gamma, beta: (D,) scale and shift; eps: added to the variance.
    Returns out: (N, D), out = gamma * (x - mean) / sqrt(var + eps) + beta, where mean and the
    biased variance var are taken over the N rows, per feature. x, gamma and beta are left unchanged.
    """
    ### BEGIN SOLUTION
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05-bn-forward-test", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.batchnorm as _bn
from dlcore.testing import check_close, check_shape, run_student

_ref = (_bn.batch_norm_forward,)
# 1. shape
_out = run_student(batch_norm_forward, np.ones((5, 3)) * np.arange(5)[:, None], np.ones(3), np.zeros(3), forbid=_ref)
check_shape(_out, (5, 3), "batch_norm_forward(x of shape (5, 3))")
# 2. by hand, eps = 0: column 0 is [1, 3] (mean 2, variance 1), column 1 is [2, 6] (mean 4, variance 4)
_x = np.array([[1.0, 2.0], [3.0, 6.0]])
check_close(run_student(batch_norm_forward, _x, np.ones(2), np.zeros(2), eps=0.0, forbid=_ref),
            [[-1.0, -1.0], [1.0, 1.0]], "batch_norm_forward([[1, 2], [3, 6]], gamma=1, beta=0, eps=0)")
check_close(run_student(batch_norm_forward, _x, np.array([2.0, 0.5]), np.array([1.0, -1.0]), eps=0.0, forbid=_ref),
            [[-1.0, -1.5], [3.0, -0.5]], "batch_norm_forward([[1, 2], [3, 6]], gamma=[2, 0.5], beta=[1, -1], eps=0)")
# 3. against dlcore on a seeded input
_rng = np.random.default_rng(5)
_x, _g, _b = _rng.normal(3.0, 2.0, (16, 4)), _rng.normal(size=4), _rng.normal(size=4)
check_close(run_student(batch_norm_forward, _x, _g, _b, forbid=_ref), _bn.batch_norm_forward(_x, _g, _b)[0],
            "batch_norm_forward on a (16, 4) batch compared with dlcore.batchnorm.batch_norm_forward")
print("visible tests passed")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(2024)
for _ in range(5):
    _n, _d = int(_rng.integers(2, 40)), int(_rng.integers(1, 9))
    _x = _rng.normal(_rng.normal(0, 5), _rng.uniform(0.1, 4), (_n, _d))
    _g, _b = _rng.normal(size=_d), _rng.normal(size=_d)
    _eps = float(_rng.choice([1e-5, 1e-3, 0.1]))
    check_close(run_student(batch_norm_forward, _x, _g, _b, eps=_eps, forbid=_ref),
                _bn.batch_norm_forward(_x, _g, _b, eps=_eps)[0], f"batch_norm_forward on shape {(_n, _d)}, eps={_eps}")
# normalised output: mean 0, variance 1 (gamma = 1, beta = 0)
_x = _rng.normal(10.0, 3.0, (64, 6))
_o = np.asarray(run_student(batch_norm_forward, _x, np.ones(6), np.zeros(6), forbid=_ref))
check_close(_o.mean(axis=0), np.zeros(6), "mean of the normalised batch", atol=1e-9)
check_close(_o.var(axis=0), np.ones(6), "variance of the normalised batch", rtol=1e-4)
# a constant feature: x_hat = 0, so out = beta (finite thanks to eps)
_x = np.column_stack([np.full(8, 3.0), np.arange(8.0)])
check_close(run_student(batch_norm_forward, _x, np.array([2.0, 1.0]), np.array([0.5, 0.0]), forbid=_ref),
            _bn.batch_norm_forward(_x, np.array([2.0, 1.0]), np.array([0.5, 0.0]))[0], "a constant feature")
# x, gamma and beta are left unchanged
_xi, _gi, _bi = _rng.normal(2.0, 3.0, (7, 3)), _rng.normal(size=3), _rng.normal(size=3)
_copies = (_xi.copy(), _gi.copy(), _bi.copy())
run_student(batch_norm_forward, _xi, _gi, _bi, forbid=_ref)
for _a, _c, _name in zip((_xi, _gi, _bi), _copies, ("x", "gamma", "beta")):
    check_close(_a, _c, f"batch_norm_forward must not change {_name} in place")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch05-bn-backward-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — `batch_norm_backward` · 6 points (dx 3, dgamma 2, dbeta 1)
#
# Write `batch_norm_backward(dout, x, gamma, eps=1e-5)` returning `(dx, dgamma, dbeta)`, the
# gradients of a loss $L$ with respect to `x` (shape `(N, D)`), `gamma` and `beta` (shape `(D,)`),
# given `dout` $= \partial L/\partial\,\text{out}$ (shape `(N, D)`) for the forward pass of exercise 1.
# Recompute what you need (μ, σ², $\hat x$) from `x`, and leave `dout`, `x` and `gamma` unchanged
# (every part checks this). Remember that μ and σ² depend on every $x_{nj}$ of their column, so
# $\partial L/\partial x$ has three paths: through $\hat x$ directly, through σ², and through μ.
#
# **Hint: walk the computational graph (计算图) backwards**, one node at a time, per feature:
# 1. forward as nodes: $\mu = \tfrac1N\sum_n x_n$, $c = x-\mu$, $\sigma^2 = \tfrac1N\sum_n c_n^2$,
#    $s = 1/\sqrt{\sigma^2+\varepsilon}$, $\hat x = c\,s$, $\text{out} = \gamma\hat x + \beta$;
# 2. the last node first: β and γ are shared by all N rows, so their gradients add up over the rows;
#    $\partial L/\partial\hat x = \gamma\cdot\text{dout}$;
# 3. $\hat x = c\,s$ is a product: the gradient reaching $c$ directly is $\partial L/\partial\hat x\cdot s$,
#    and $s$ collects $\sum_n \partial L/\partial\hat x_n\,c_n$ from all rows; pass it on to σ² with
#    $ds/d\sigma^2 = -\tfrac12(\sigma^2+\varepsilon)^{-3/2}$;
# 4. σ² is a mean of $c^2$: each $c_n$ receives $\tfrac2N c_n\,\partial L/\partial\sigma^2$ more;
# 5. $c = x-\mu$: $x$ gets $\partial L/\partial c$, and μ gets $-\sum_n\partial L/\partial c_n$, which
#    the mean hands back to every $x_n$ divided by N. Add the contributions that reach $x$.
#
# Check your answer with a numerical gradient (`dlcore.gradcheck.numerical_gradient` works in
# this notebook) before you run the test; once it works,
# simplify: the sums collapse to a short formula in $\hat x$, $d\gamma$ and $d\beta$.
# Calling `dlcore.batchnorm.batch_norm_backward` fails the test. Hidden tests compare with a
# numerical gradient on random shapes.
# Your own chapter-2 checker works for that check too:
# in a new cell, `from dlcore.workspace import carry; carry("eval_numerical_gradient", "rel_error")` brings it from chapter 2.
#

# %% nbgrader={"grade": false, "grade_id": "ch05-bn-backward-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batch_norm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of batch_norm_forward (training mode).

    dout: (N, D) upstream gradient dL/dout; x: (N, D) the forward's input; gamma: (D,).
    Returns (dx, dgamma, dbeta) with shapes (N, D), (D,), (D,); dout, x and gamma are left unchanged.
    """
    ### BEGIN SOLUTION
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma * inv_std * (dout - dbeta / n - x_hat * dgamma / n)
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05-bn-backward-test", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.batchnorm as _bn
from dlcore.testing import check_close, check_gradient, check_shape, part, run_student

# three independent parts: dx (3 points), dgamma (2), dbeta (1)
_ref = (_bn.batch_norm_backward,)
_rng = np.random.default_rng(7)
_x, _g, _b, _dout = _rng.normal(size=(6, 3)), _rng.normal(size=3), _rng.normal(size=3), _rng.normal(size=(6, 3))
_res = run_student(batch_norm_backward, _dout, _x, _g, forbid=_ref)
assert isinstance(_res, tuple) and len(_res) == 3, f"batch_norm_backward: expected a tuple (dx, dgamma, dbeta), got {type(_res).__name__}"
_dx, _dg, _db = _res
# by hand: x = [[1], [3]] (x_hat = [-1, 1]), dout = [[1], [0]]: dbeta = 1, dgamma = -1, and with two
# examples x_hat is always ±1 whatever x is, so dx = 0
_dx1, _dg1, _db1 = run_student(batch_norm_backward, np.array([[1.0], [0.0]]), np.array([[1.0], [3.0]]), np.ones(1), eps=0.0, forbid=_ref)
_rdx, _rdg, _rdb = _bn.batch_norm_backward(_dout, _bn.batch_norm_forward(_x, _g, _b)[1])
with part(1, "dbeta"):
    check_shape(_db, (3,), "dbeta")
    check_close(_db1, [1.0], "dbeta for dout = [[1], [0]]")
    check_close(_db, _rdb, "dbeta compared with dlcore")
with part(2, "dgamma"):
    check_shape(_dg, (3,), "dgamma")
    check_close(_dg1, [-1.0], "dgamma for x = [[1], [3]], dout = [[1], [0]]")
    check_close(_dg, _rdg, "dgamma compared with dlcore")
with part(3, "dx"):
    check_shape(_dx, (6, 3), "dx")
    check_close(_dx1, [[0.0], [0.0]], "dx for a batch of two (x_hat = ±1 does not depend on x)", atol=1e-12)
    check_close(_dx, _rdx, "dx compared with dlcore.batchnorm.batch_norm_backward")
print("visible tests passed")
### BEGIN HIDDEN TESTS
for _seed in (11, 12, 13):
    _rng = np.random.default_rng(_seed)
    _n, _d = int(_rng.integers(3, 12)), int(_rng.integers(1, 6))
    _x = _rng.normal(_rng.normal(0, 3), _rng.uniform(0.5, 3), (_n, _d))
    _g, _b, _dout = _rng.normal(size=_d), _rng.normal(size=_d), _rng.normal(size=(_n, _d))
    _eps = float(_rng.choice([1e-5, 1e-2]))
    _dx, _dg, _db = run_student(batch_norm_backward, _dout, _x, _g, eps=_eps, forbid=_ref)
    with part(3, "dx"):
        check_gradient(lambda v: float(np.sum(_bn.batch_norm_forward(v, _g, _b, eps=_eps)[0] * _dout)), _x, _dx,
                       f"dx on shape {(_n, _d)}")
    with part(2, "dgamma"):
        check_gradient(lambda v: float(np.sum(_bn.batch_norm_forward(_x, v, _b, eps=_eps)[0] * _dout)), _g, _dg, "dgamma")
    with part(1, "dbeta"):
        check_gradient(lambda v: float(np.sum(_bn.batch_norm_forward(_x, _g, v, eps=_eps)[0] * _dout)), _b, _db, "dbeta")
# dout, x and gamma are left unchanged: centring x or dout in place fails every part
_rng = np.random.default_rng(14)
_xi, _gi, _douti = _rng.normal(1.0, 2.0, (5, 3)), _rng.normal(size=3), _rng.normal(size=(5, 3))
_copies = (_douti.copy(), _xi.copy(), _gi.copy())
run_student(batch_norm_backward, _douti, _xi, _gi, forbid=_ref)
for _pts, _what in ((3, "dx"), (2, "dgamma"), (1, "dbeta")):
    with part(_pts, _what):
        for _a, _c, _name in zip((_douti, _xi, _gi), _copies, ("dout", "x", "gamma")):
            check_close(_a, _c, f"batch_norm_backward must not change {_name} in place")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch05-bn-running-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 — running statistics and evaluation mode · 4 points
#
# Write `batch_norm_running(x, gamma, beta, running_mean, running_var, train, momentum=0.1, eps=1e-5)`
# for `x` of shape `(N, D)` and four vectors of shape `(D,)`, returning
# `(out, new_running_mean, new_running_var)`, as `torch.nn.BatchNorm1d` does in its two modes:
#
# - `train=True`: `out` normalises with the **batch** statistics, exactly as in exercise 1 (biased
#   variance), and the running statistics (滑动平均 running average) take one momentum step
#   $r \leftarrow (1-m)\,r + m\,s$, where $s$ is the batch mean for `running_mean` and the
#   **unbiased** batch variance (divide by N − 1) for `running_var`;
# - `train=False`: `out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta`, and the
#   running statistics come back unchanged (evaluation never learns from the batch it sees).
#
# Return new arrays and leave every input unchanged. You may call your `batch_norm_forward`;
# calling `dlcore.batchnorm`'s functions fails the test. The visible tests check the shapes, one
# step of each mode worked by hand, and agreement with `dlcore` on a seeded batch; hidden tests add
# random shapes and momenta, several training steps in a row, and a batch of one in evaluation.
#

# %% nbgrader={"grade": false, "grade_id": "ch05-bn-running-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batch_norm_running(x, gamma, beta, running_mean, running_var, train, momentum=0.1, eps=1e-5):
    """Batch norm with running statistics, in training (train=True) or evaluation mode.

    x: (N, D); gamma, beta, running_mean, running_var: (D,); momentum in [0, 1]; eps > 0.
    Returns (out, new_running_mean, new_running_var) of shapes (N, D), (D,), (D,). Training
    normalises with the batch mean and biased variance and moves the running mean and the running
    (unbiased) variance a step `momentum` towards the batch's; evaluation normalises with the
    running statistics and returns them unchanged. No input is changed.
    """
    ### BEGIN SOLUTION
    if not train:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        return out, running_mean.copy(), running_var.copy()
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mu
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return out, new_mean, new_var
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05-bn-running-test", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import dlcore.batchnorm as _bn
from dlcore.testing import check_close, check_shape, run_student

_ref = (_bn.batch_norm_forward, _bn.batch_norm_eval, _bn.update_running_stats)
_res = run_student(batch_norm_running, np.arange(10.0).reshape(5, 2), np.ones(2), np.zeros(2),
                   np.zeros(2), np.ones(2), True, forbid=_ref)
assert isinstance(_res, tuple) and len(_res) == 3, \
    f"batch_norm_running: expected a tuple (out, new_running_mean, new_running_var), got {type(_res).__name__}"
# 1. shapes
check_shape(_res[0], (5, 2), "out for x of shape (5, 2)")
check_shape(_res[1], (2,), "new_running_mean")
check_shape(_res[2], (2,), "new_running_var")
# 2. by hand, training: x = [[1], [3]] has mean 2, biased variance 1, unbiased variance 2; with
# momentum 0.1 the running mean 0 becomes 0.2 and the running variance 1 becomes 0.9 + 0.2 = 1.1
_out, _rm, _rv = run_student(batch_norm_running, np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1),
                             np.zeros(1), np.ones(1), True, momentum=0.1, eps=0.0, forbid=_ref)
check_close(_out, [[-1.0], [1.0]], "out in training mode for x = [[1], [3]], eps = 0 (batch statistics)")
check_close(_rm, [0.2], "new_running_mean after one step from 0 with momentum 0.1 (batch mean 2)")
check_close(_rv, [1.1], "new_running_var after one step from 1 with momentum 0.1 (unbiased batch variance 2)")
# 3. by hand, evaluation: running mean 2, running variance 4, x = 4 gives (4 - 2) / 2 = 1
_out, _rm, _rv = run_student(batch_norm_running, np.array([[4.0]]), np.ones(1), np.zeros(1),
                             np.array([2.0]), np.array([4.0]), False, eps=0.0, forbid=_ref)
check_close(_out, [[1.0]], "out in evaluation mode for x = [[4]], running mean 2, running variance 4, eps = 0")
check_close(_rm, [2.0], "new_running_mean in evaluation mode (must come back unchanged)")
check_close(_rv, [4.0], "new_running_var in evaluation mode (must come back unchanged)")
# 4. against dlcore on a seeded batch, both modes
_rng = np.random.default_rng(21)
_x, _g, _b = _rng.normal(1.0, 2.0, (12, 4)), _rng.normal(size=4), _rng.normal(size=4)
_m0, _v0 = _rng.normal(size=4), _rng.uniform(0.5, 2.0, 4)
_o, _cache = _bn.batch_norm_forward(_x, _g, _b)
_em, _ev = _bn.update_running_stats(_m0, _v0, _cache, momentum=0.1)
_out, _rm, _rv = run_student(batch_norm_running, _x, _g, _b, _m0, _v0, True, forbid=_ref)
check_close(_out, _o, "out in training mode compared with dlcore.batchnorm.batch_norm_forward")
check_close(_rm, _em, "new_running_mean compared with dlcore.batchnorm.update_running_stats")
check_close(_rv, _ev, "new_running_var compared with dlcore.batchnorm.update_running_stats")
_out, _rm, _rv = run_student(batch_norm_running, _x, _g, _b, _m0, _v0, False, forbid=_ref)
check_close(_out, _bn.batch_norm_eval(_x, _m0, _v0, _g, _b), "out in evaluation mode compared with dlcore.batchnorm.batch_norm_eval")
print("visible tests passed")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(515)
for _trial in range(4):
    _n, _d = int(_rng.integers(2, 30)), int(_rng.integers(1, 7))
    _mom, _eps = float(_rng.choice([0.0, 0.05, 0.3, 1.0])), float(_rng.choice([1e-5, 1e-2]))
    _g, _b = _rng.normal(size=_d), _rng.normal(size=_d)
    _cm, _cv = np.zeros(_d), np.ones(_d)
    _sm, _sv = _cm.copy(), _cv.copy()
    for _step in range(3):
        _xb = _rng.normal(_rng.normal(0, 4), _rng.uniform(0.2, 3), (_n, _d))
        _want, _c = _bn.batch_norm_forward(_xb, _g, _b, eps=_eps)
        _cm, _cv = _bn.update_running_stats(_cm, _cv, _c, momentum=_mom)
        _got, _sm, _sv = run_student(batch_norm_running, _xb, _g, _b, np.array(_sm), np.array(_sv), True,
                                     momentum=_mom, eps=_eps, forbid=_ref)
        _where = f"training step {_step + 1} on shape {(_n, _d)}, momentum={_mom}, eps={_eps}"
        check_close(_got, _want, f"out at {_where}")
        check_close(_sm, _cm, f"running mean after {_where}")
        check_close(_sv, _cv, f"running variance after {_where}")
    _xe = _rng.normal(size=(int(_rng.integers(1, 5)), _d))
    _got, _em, _ev = run_student(batch_norm_running, _xe, _g, _b, np.array(_cm), np.array(_cv), False,
                                 momentum=_mom, eps=_eps, forbid=_ref)
    check_close(_got, _bn.batch_norm_eval(_xe, _cm, _cv, _g, _b, eps=_eps),
                f"evaluation on a batch of {_xe.shape[0]} after three training steps")
    check_close(_em, _cm, "evaluation must not move the running mean")
    check_close(_ev, _cv, "evaluation must not move the running variance")
# evaluation treats one example on its own: a batch of one is not normalised to zero
_xo = np.array([[5.0, -1.0]])
_got = run_student(batch_norm_running, _xo, np.ones(2), np.zeros(2), np.array([1.0, 1.0]),
                   np.array([4.0, 1.0]), False, eps=0.0, forbid=_ref)[0]
check_close(_got, [[2.0, -2.0]], "evaluation of one example with running mean [1, 1], running variance [4, 1]")
# no input is changed, in either mode
for _mode in (True, False):
    _ins = (_rng.normal(size=(6, 3)), _rng.normal(size=3), _rng.normal(size=3), _rng.normal(size=3),
            _rng.uniform(0.5, 2.0, 3))
    _copies = [a.copy() for a in _ins]
    run_student(batch_norm_running, *_ins, _mode, momentum=0.2, forbid=_ref)
    for _a, _c, _name in zip(_ins, _copies, ("x", "gamma", "beta", "running_mean", "running_var")):
        check_close(_a, _c, f"batch_norm_running(train={_mode}) must not change {_name} in place")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Written questions

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch05-eval-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Question 1 (2 points).** A classmate trains a network with batch norm, then serves it one
# image at a time without calling `model.eval()`. What happens (try it above with a batch of one),
# and what would happen with batches of 3 images? Why does evaluation mode use running statistics?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch05-eval-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# In training mode a batch of one cannot be normalised (its variance is 0: dlcore and PyTorch
# raise an error). With batches of 3 the prediction for an image depends on the two other images
# in its batch, and the tiny batch's statistics are very noisy, so predictions change from batch to
# batch. Evaluation mode replaces the batch statistics by the running averages collected during
# training — fixed numbers that describe the training data as a whole — so each image gets one
# deterministic answer whatever it is batched with.
#
# **Rubric (2 points).**
# - 1 point — training mode: a batch of one cannot be normalised (variance 0; dlcore and PyTorch raise), and with tiny batches the output depends on the other images and on noisy statistics. Half a point for one of the two failures.
# - 1 point — evaluation mode uses the running averages collected in training, fixed numbers, so each image gets one answer whatever it is batched with. Half a point for "use eval mode" without saying what it changes.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch05-why-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Question 2 (2 points).** In two or three sentences: what did Santurkar et al. (2018) do to test
# the "internal covariate shift" explanation, what did they find, and what do they propose instead?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch05-why-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# They added random noise with a changing mean and variance after each batch-norm layer,
# deliberately re-creating a shifting input distribution; the networks still trained about as well as
# with plain batch norm, so removing the shift cannot be the main reason. They propose that batch
# norm makes the loss landscape smoother (the loss and its gradient change less over a step), which
# makes gradients more predictive and permits larger learning rates.
#
# **Rubric (2 points).**
# - 1 point — the experiment: noise with a changing mean and variance injected after each BN layer, and the networks still trained about as well, so removing internal covariate shift is not the main reason. Half a point for the conclusion without the experiment.
# - 1 point — their explanation: a smoother loss landscape (loss and gradient change less over a step), so gradients are more predictive and larger learning rates work. Half a point for "smoother" alone.

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once (every option has one, so a
# wrong choice teaches something too). Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("After a batch-norm layer with γ = 1 and β = 0, in training mode, each feature of the batch has …", [
    ("mean 0 and variance σ²/(σ² + ε), just under 1", True, "The ε in the denominator keeps the variance a hair below 1 (section 1)."),
    ("mean 0 and variance exactly 1", False, "Almost: the ε that keeps the division finite makes it σ²/(σ² + ε)."),
    ("the input's mean and variance", False, "That is what γ = √(σ² + ε), β = μ would give back (section 2)."),
])

# %%
ask("In evaluation mode (layer.eval()), batch norm normalises with …", [
    ("the running statistics kept during training", True, "So one example gets the same output alone or in any batch (section 3)."),
    ("the statistics of the current batch", False, "That is training mode; in eval mode a lone example would otherwise be normalised with itself."),
    ("nothing: it is switched off", False, "It still normalises and applies γ and β, with the running mean and variance."),
])

# %%
ask("At the explorer's default (tanh, weight scale 1), set depth 10. Without batch norm the std of the activations …", [
    ("keeps falling layer by layer, to 0.23 at layer 10", True, "0.62 at layer 1, 0.23 at layer 10, while with batch norm every layer stays at 0.63."),
    ("stays level, like with batch norm", False, "Only the batch-norm side stays level (0.63): the plain stack shrinks every layer."),
    ("grows layer by layer", False, "With tanh at weight scale 1 it shrinks; it grows only with large weight scales."),
], predict="Predict first, then move the depth slider.")

# %% [markdown]
# ## Glossary
#
# | English | 中文 |
# |---|---|
# | batch normalization | 批量归一化 |
# | mini-batch | 小批量 |
# | mean | 均值 |
# | variance | 方差 |
# | standard deviation | 标准差 |
# | scale (γ) | 缩放 |
# | shift (β) | 平移 |
# | running statistics / moving average | 滑动平均（运行统计量） |
# | training mode / evaluation mode | 训练模式 / 评估模式 |
# | internal covariate shift | 内部协变量偏移 |
# | learning rate | 学习率 |
# | initialization | 初始化 |
#
