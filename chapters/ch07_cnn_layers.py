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
# # Chapter 7 — CNN layers: convolution, channels, stride, padding, pooling
#
# A fully connected layer treats an image as a long list of numbers and forgets which pixels are
# neighbours. A **convolution** layer (卷积层) slides small **kernels** (卷积核) over the image, so
# the same few weights look for the same pattern everywhere. This chapter builds the layers of a
# convolutional neural network (CNN) one at a time on a real photograph, then trains a small CNN
# with a softmax head on real handwritten digits.
#
# **After this chapter you can**
# 1. say what shape every array has: an RGB input has 3 **channels** (通道); a kernel has as many
#    layers as the input has channels; each kernel gives one output channel (a **feature map**, 特征图);
# 2. compute the output size from the **stride** (步长) S and **padding** (填充) P:
#    ⌊(H + 2P − K)/S⌋ + 1;
# 3. apply ReLU to feature maps and **pool** (池化) them with max (最大池化) or average (平均池化) pooling,
#    which have no parameters;
# 4. write convolution and pooling as loops, and see why the library's vectorised version is faster.
#
# **Prerequisites**: chapters 2–3 (softmax, cross-entropy 交叉熵, ReLU), chapter 4 (optimizers).

# %% nbgrader={"grade": false, "grade_id": "ch07-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import time
import timeit
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
from dlcore import conv, pooling, nn, optim, train, data
from dlcore.explorers import ch07
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot
np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. A colour photograph is a 3-channel input
#
# Images in this course are **NCHW** arrays: N images, C channels, H rows, W columns. Our
# photograph (Grace Hopper, shipped with matplotlib) shrunk to 64×64 is one image with three
# channels — red, green, blue — each a 64×64 grid of numbers in [0, 1].

# %%
x = ch07.load_input(64)           # (N, C, H, W) = (1, 3, 64, 64)
print("x.shape =", x.shape, " min", x.min().round(3), " max", x.max().round(3))
ch07.show_channels(x)

# %% [markdown]
# ## 2. A kernel has one layer per input channel; each kernel gives one output channel
#
# A conv layer's weights `w` have shape **(F, C, KH, KW)**: F kernels, each with **C layers** of
# KH×KW numbers — one layer per input channel. Kernel f slides over the image; at every position
# it multiplies each of its C layers with the patch of the matching channel, adds **everything
# up** (over the three channels too) and adds its bias:
#
# $$z[n,f,i,j] = b[f] + \sum_{c=0}^{C-1}\sum_{u=0}^{KH-1}\sum_{v=0}^{KW-1} x_{pad}[n,\,c,\,iS+u,\,jS+v]\;w[f,c,u,v].$$
#
# (Like PyTorch, "convolution" here is cross-correlation: the kernel is not flipped.) Because the
# channel sum is inside, **one kernel produces one output channel**, however many input channels
# there are: F kernels → F feature maps. Below: four hand-made kernels, each shown as its three
# layers (R, G, B).

# %%
w, names = ch07.kernel_bank("edge", 4)        # (F, C, KH, KW) = (4, 3, 3, 3)
b = np.zeros(4)
print("w.shape =", w.shape, "-> F = 4 kernels, each with C = 3 layers of 3×3")
ch07.show_kernels(w, names)

# %%
z, _ = conv.conv2d_forward(x, w, b)           # stride 1, no padding
print("x", x.shape, "* w", w.shape, "->", z.shape, ": one output channel per kernel")
ch07.show_maps(z, "the four output channels (before ReLU)", symmetric=True, titles=names)

# %% [markdown]
# The channel sum is real: output channel 3 (the "R only" kernel has zeros in its G and B layers)
# equals the sum over channels of one-channel convolutions, and only the red channel contributes.

# %%
per_channel = [conv.conv2d_forward(x[:, c:c + 1], w[3:4, c:c + 1], None)[0] for c in range(3)]
print("max |z[:, 3] − Σ_c conv(x_c, w_3c)| =", np.abs(z[:, 3:4] - sum(per_channel)).max())
print("contribution of each channel (max |·|):", [float(np.abs(p).max().round(3)) for p in per_channel])

# %% [markdown]
# ## 3. Stride and padding set the output size
#
# With stride S the kernel jumps S cells at a time; with padding P the input gets P rings of
# zeros first. Along each axis the number of positions is
#
# $$H_{out} = \left\lfloor \frac{H + 2P - K}{S} \right\rfloor + 1 .$$
#
# Stride > 1 **shrinks** the output (by about a factor S); padding P = (K − 1)/2 with S = 1 keeps
# the size ("same" padding). The table compares the formula with the shape `conv2d_forward` returns:

# %%
print(f"{'H':>3} {'K':>2} {'S':>2} {'P':>2} | formula | conv2d_forward output")
for S, P in [(1, 0), (1, 1), (2, 0), (2, 1), (3, 1), (4, 0)]:
    out, _ = conv.conv2d_forward(x, w, b, stride=S, padding=P)
    print(f"{64:>3} {3:>2} {S:>2} {P:>2} | {conv.conv_output_size(64, 3, S, P):>7} | {out.shape}")

# %% [markdown]
# ## 4. Kernels are learned weights, not fixed filters
#
# The edge and blur kernels above were written by hand to make the maps easy to read. In a CNN
# nobody writes kernels: `nn.Conv2d` starts them at small random numbers and gradient descent (梯度下降)
# changes them like any other weight (chapter 8 shows the gradient). Random kernels already give
# feature maps — just not useful ones yet:

# %%
w_rand = ch07.random_kernels(4, seed=0)
z_rand, _ = conv.conv2d_forward(x, w_rand, np.zeros(4), padding=1)
ch07.show_maps(z_rand, "random (untrained) kernels, padding 1: size kept at 64×64", symmetric=True)

# %% [markdown]
# ## 5. ReLU on feature maps
#
# The activation works cell by cell on every feature map, exactly as on a vector: negative
# responses ("the pattern is absent here, or reversed") become 0.

# %%
a = np.maximum(z, 0)
print("fraction of cells set to 0 by ReLU, per channel:", (a == 0).mean(axis=(0, 2, 3)).round(3))
ch07.show_maps(a, "after ReLU", cmap="magma", titles=names)

# %% [markdown]
# ## 6. Pooling: max or average over windows, no parameters
#
# Pooling shrinks each feature map separately (channels stay channels): max pooling keeps the
# largest value of each k×k window, average pooling its mean. With the default stride = k the
# windows tile the map and H shrinks to ⌊H/k⌋. A 4×4 example with k = 2:

# %%
m = np.array([[1., 3., 2., 0.],
              [4., 2., 1., 5.],
              [0., 1., 6., 2.],
              [2., 7., 3., 1.]])[None, None]
p_max, _ = pooling.max_pool2d_forward(m, 2)
p_avg, _ = pooling.avg_pool2d_forward(m, 2)
ch07.show_grid_numbers([m[0, 0], p_max[0, 0], p_avg[0, 0]], ["input", "max pool k=2", "avg pool k=2"])

# %%
print("parameters: Conv2d(3, 4, 3):", nn.Conv2d(3, 4, 3, rng=np.random.default_rng(0)).num_parameters(),
      "(4·3·3·3 weights + 4 biases) | MaxPool2d(2):", nn.MaxPool2d(2).num_parameters(),
      "| AvgPool2d(2):", nn.AvgPool2d(2).num_parameters())
pa, _ = pooling.max_pool2d_forward(a, 2)
print("feature maps", a.shape, "-> max pooled", pa.shape)
ch07.show_maps(pa, "max-pooled feature maps: half the size, the strong responses kept", cmap="magma")

# %% [markdown]
# ## 7. A small CNN with a softmax head, trained on real digits
#
# Stacking the layers gives a CNN: conv → ReLU → pool → flatten → linear. The linear layer's 10
# outputs are **logits**; softmax turns them into class probabilities and cross-entropy
# (chapter 2) is the loss. We train on the 1,797 real 8×8 handwritten digits that ship with the
# course, a few epochs only (seconds).

# %%
X, y = data.load_digits(images=True)                         # (1797, 1, 8, 8), labels 0–9
split = data.train_val_test_split(X, y, rng=np.random.default_rng(0))
rng = np.random.default_rng(0)
model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),  # (N, 8, 4, 4)
                      nn.Flatten(), nn.Linear(8 * 4 * 4, 10, rng=rng))                  # logits (N, 10)
w_init = model[0].weight.copy()
t0 = time.perf_counter()
hist = train.fit(model, split.X_train, split.y_train, optimizer=optim.Adam(model.parameters(), lr=0.01),
                 epochs=10, batch_size=32, rng=rng, X_val=split.X_val, y_val=split.y_val, progress=False)
test_loss, test_acc = train.evaluate(model, split.X_test, split.y_test)
print(f"trained in {time.perf_counter() - t0:.1f} s; {model.num_parameters()} parameters; "
      f"test accuracy {test_acc:.3f}, test loss {test_loss:.3f}")
ch07.plot_history(hist)

# %%
probs = train.predict_proba(model, split.X_test[:6])          # softmax of the logits, (6, 10)
print("each row sums to 1:", probs.sum(axis=1).round(6))
ch07.show_predictions(split.X_test[:6], probs, split.y_test[:6])

# %% [markdown]
# And the kernels themselves — before and after training. Nothing forced them to be edge
# detectors; they became whatever lowered the loss:

# %%
ch07.show_kernel_mosaic([w_init[:, 0], model[0].weight[:, 0]],
                        ["the 8 first-layer kernels at initialisation (random)", "the same kernels after training"])

# %% [markdown]
# ### Max or average pooling?
#
# The study notes say max pooling usually works better. That is a rule of thumb from practice,
# so test it here: the same network with `AvgPool2d(2)` in place of `MaxPool2d(2)`, trained with
# the same seeds (same initial weights, same batch order), three seeds each:

# %%
pools = ch07.pooling_comparison(seeds=(0, 1, 2), epochs=10)
for pool, r in pools.items():
    print(f"{pool} pooling: test accuracy per seed {np.round(r['test_acc'], 3).tolist()}, "
          f"mean {r['test_acc'].mean():.3f}; test loss mean {r['test_loss'].mean():.3f}")
ch07.plot_pooling_comparison(pools)

# %% [markdown]
# On these digits max pooling wins with every seed: about 0.96 test accuracy against 0.93 for
# average pooling, and a lower test loss. A plausible reason: a ReLU feature map is mostly zeros with a
# few strong responses where a stroke matches the kernel; the maximum keeps that response wherever
# it sits in the window, while the mean dilutes it with the zeros around it. "Usually" is the right
# word, not "always": with more layers average pooling is common too (ResNets end with a global
# average pool), and the difference depends on the data and the network.

# %% [markdown]
# ## 8. Explorer: a convolution layer on the photograph
#
# Choose a kernel bank (edge, blur, sharpen, random — or **custom**: type one line of nine numbers
# per input channel R, G, B; it becomes kernel 0), the number of kernels F, the stride S, the
# padding P and the pooling. The first row shows the input and each kernel's three layers, the
# second every output channel after ReLU (and kernel 0 before ReLU), the third every channel after
# pooling. The read-out prints the shapes the size formula predicts, and the parameter counts.
#
# Try: stride 2 and 3 (what happens to 64 → ?); padding 1 with stride 1; a custom kernel with only
# a B layer (`0 0 0 0 0 0 0 0 0` for R and G); max vs avg pooling on the edge maps.

# %%
ch07.conv_explorer()
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers none of its functions
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch07-conv-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Exercise 1 — `conv2d_forward` as readable loops (4 points)
#
# Write the forward pass of a convolution layer with loops, following the formula of section 2:
# pad `x` with `padding` zeros on each side of H and W, then for every image n, kernel f and output
# position (i, j) take the C×KH×KW window starting at (i·stride, j·stride), multiply it with
# `w[f]`, sum, and add `b[f]`. `stride` and `padding` are ints; `b` may be `None` (no bias).
#
# Return only `out` (no cache), of shape (N, F, H_out, W_out) with the size formula of section 3.
# Clarity first — speed is the library's job (the cell after the test times both). Do not call
# `dlcore.conv`'s convolutions.
#

# %% nbgrader={"grade": false, "grade_id": "ch07-conv-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d_forward(x, w, b, stride=1, padding=0):
    """Convolution (cross-correlation) forward pass, written with loops.

    x: (N, C, H, W) input; w: (F, C, KH, KW) kernels; b: (F,) biases or None;
    stride, padding: ints. Returns out: (N, F, H_out, W_out) with
    H_out = (H + 2*padding - KH) // stride + 1 (W_out likewise).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                    out[n, f, i, j] = np.sum(window * w[f]) + (0.0 if b is None else b[f])
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch07-conv-test", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import conv
from dlcore.testing import check_close, check_shape, run_student
refs = (conv.conv2d_forward, conv.conv2d_forward_loops)
# by hand: 2 channels, 3×3 input, 2×2 kernel of ones on channel 0 and twos on channel 1, bias 0.5
x = np.stack([np.arange(9.0).reshape(3, 3), np.ones((3, 3))])[None]       # (1, 2, 3, 3)
w = np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))])[None]                 # (1, 2, 2, 2)
got = run_student(conv2d_forward, x, w, np.array([0.5]), forbid=refs)
check_shape(got, (1, 1, 2, 2), "conv2d_forward on a 2-channel 3x3 input with a 2x2 kernel")
# window sums of channel 0: [[8, 12], [20, 24]]; channel 1 adds 2·4 = 8; bias 0.5
check_close(got, [[[[16.5, 20.5], [28.5, 32.5]]]], "conv2d_forward by hand (channels are summed)")
# compared with dlcore on a seeded input, stride 2 and padding 1
rng = np.random.default_rng(7)
x = rng.normal(size=(2, 3, 7, 6)); w = rng.normal(size=(4, 3, 3, 3)); b = rng.normal(size=4)
got = run_student(conv2d_forward, x, w, b, 2, 1, forbid=refs)
check_shape(got, (2, 4, 4, 3), "conv2d_forward(stride=2, padding=1) on x(2,3,7,6), w(4,3,3,3)")
check_close(got, conv.conv2d_forward(x, w, b, stride=2, padding=1)[0], "conv2d_forward(stride=2, padding=1) compared with dlcore")
### BEGIN HIDDEN TESTS
for seed in range(5):
    rng = np.random.default_rng(500 + seed)
    N, C, F = (int(v) for v in rng.integers(1, 4, size=3))
    KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
    S, P = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    H, W = int(rng.integers(max(KH - 2 * P, 1), 9)), int(rng.integers(max(KW - 2 * P, 1), 9))
    x = rng.normal(size=(N, C, H, W)); w = rng.normal(size=(F, C, KH, KW)); b = rng.normal(size=F)
    got = run_student(conv2d_forward, x, w, b, S, P, forbid=refs)
    check_close(got, conv.conv2d_forward(x, w, b, stride=S, padding=P)[0],
                f"conv2d_forward on x{x.shape}, w{w.shape}, stride={S}, padding={P}")
x = rng.normal(size=(1, 2, 5, 5)); w = rng.normal(size=(3, 2, 3, 3))
check_close(run_student(conv2d_forward, x, w, None, forbid=refs), conv.conv2d_forward(x, w, None)[0],
            "conv2d_forward with b=None")
### END HIDDEN TESTS

# %% [markdown]
# ### Loops versus the vectorised reference
#
# Same numbers, very different speed: your loops run one small `np.sum` per output cell, while
# `dlcore.conv.conv2d_forward` copies all windows into one matrix ("im2col") and does a single
# matrix product. Timed on a batch of 8 images 3×32×32 with 8 kernels 3×3, padding 1:

# %%
rng = np.random.default_rng(0)
xt, wt, bt = rng.normal(size=(8, 3, 32, 32)), rng.normal(size=(8, 3, 3, 3)), rng.normal(size=8)
t_fast = min(timeit.repeat(lambda: conv.conv2d_forward(xt, wt, bt, padding=1), number=1, repeat=3))  # best of 3
try:
    t0 = time.perf_counter()
    mine = conv2d_forward(xt, wt, bt, 1, 1)
    t_loops = time.perf_counter() - t0
    same = np.allclose(mine, conv.conv2d_forward(xt, wt, bt, stride=1, padding=1)[0])
    print(f"your loops: {t_loops * 1e3:.1f} ms, vectorised dlcore: {t_fast * 1e3:.2f} ms "
          f"-> dlcore is {t_loops / t_fast:.0f}x faster; same numbers: {same}")
except NotImplementedError:
    print(f"vectorised dlcore: {t_fast * 1e3:.2f} ms (solve exercise 1 to time your loops)")

# %% [markdown]
# Your function can also drive the explorer: the read-out then shows its largest difference from
# `dlcore` for every kernel, stride and padding you pick ("not implemented yet" until you solve it).

# %%
ch07.conv_explorer(student_fn=conv2d_forward, n_kernels=1)


# %% [markdown] nbgrader={"grade": false, "grade_id": "ch07-maxpool-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Exercise 2 — `max_pool2d_forward` (2 points)
#
# Max pooling over square k×k windows (`kernel_size` = k) with the given `stride` (`None` means
# stride = k; windows may overlap when stride < k). Each channel is pooled separately; windows that
# would run past the border are dropped (output size ⌊(H − k)/stride⌋ + 1). Return only `out`,
# shape (N, C, H_out, W_out). Do not call `dlcore.pooling`.
#

# %% nbgrader={"grade": false, "grade_id": "ch07-maxpool-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling: the largest value of each window, per channel.

    x: (N, C, H, W); kernel_size: int k; stride: int or None (= k).
    Returns out: (N, C, (H - k) // stride + 1, (W - k) // stride + 1).
    """
    ### BEGIN SOLUTION
    k = kernel_size
    s = k if stride is None else stride
    N, C, H, W = x.shape
    H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch07-maxpool-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import pooling
from dlcore.testing import check_close, check_shape, run_student
refs = (pooling.max_pool2d_forward, getattr(pooling, "max_pool2d_forward_loops", None))
refs = tuple(r for r in refs if r is not None)
m = np.array([[1., 3., 2., 0.], [4., 2., 1., 5.], [0., 1., 6., 2.], [2., 7., 3., 1.]])[None, None]
got = run_student(max_pool2d_forward, m, 2, forbid=refs)
check_shape(got, (1, 1, 2, 2), "max_pool2d_forward on the 4x4 example")
check_close(got, [[[[4., 5.], [7., 6.]]]], "max_pool2d_forward on the 4x4 example of section 6")
rng = np.random.default_rng(3)
x = rng.normal(size=(2, 3, 9, 8))
check_close(run_student(max_pool2d_forward, x, 3, 2, forbid=refs), pooling.max_pool2d_forward(x, 3, 2)[0],
            "max_pool2d_forward(k=3, stride=2) compared with dlcore")
### BEGIN HIDDEN TESTS
for seed in range(5):
    rng = np.random.default_rng(600 + seed)
    k = int(rng.integers(1, 4)); s = int(rng.integers(1, 4))
    x = rng.normal(size=(int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(k, 10)), int(rng.integers(k, 10))))
    check_close(run_student(max_pool2d_forward, x, k, s, forbid=refs), pooling.max_pool2d_forward(x, k, s)[0],
                f"max_pool2d_forward on x{x.shape}, k={k}, stride={s}")
x = -np.abs(rng.normal(size=(1, 2, 7, 5)))          # all negative: the maximum is not 0
check_close(run_student(max_pool2d_forward, x, 2, forbid=refs), pooling.max_pool2d_forward(x, 2)[0],
            "max_pool2d_forward on negative values, stride=None, odd size")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch07-avgpool-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Exercise 3 — `avg_pool2d_forward` (2 points)
#
# Average pooling: the mean of each k×k window, with the same windows as exercise 2
# (`stride=None` means stride = k). Return `out`, shape (N, C, H_out, W_out). Do not call
# `dlcore.pooling`.
#

# %% nbgrader={"grade": false, "grade_id": "ch07-avgpool-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def avg_pool2d_forward(x, kernel_size, stride=None):
    """Average pooling: the mean of each window, per channel.

    x: (N, C, H, W); kernel_size: int k; stride: int or None (= k).
    Returns out: (N, C, (H - k) // stride + 1, (W - k) // stride + 1).
    """
    ### BEGIN SOLUTION
    k = kernel_size
    s = k if stride is None else stride
    N, C, H, W = x.shape
    H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].mean(axis=(2, 3))
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch07-avgpool-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import pooling
from dlcore.testing import check_close, check_shape, run_student
refs = (pooling.avg_pool2d_forward, getattr(pooling, "avg_pool2d_forward_loops", None))
refs = tuple(r for r in refs if r is not None)
m = np.array([[1., 3., 2., 0.], [4., 2., 1., 5.], [0., 1., 6., 2.], [2., 7., 3., 1.]])[None, None]
got = run_student(avg_pool2d_forward, m, 2, forbid=refs)
check_shape(got, (1, 1, 2, 2), "avg_pool2d_forward on the 4x4 example")
check_close(got, [[[[2.5, 2.0], [2.5, 3.0]]]], "avg_pool2d_forward on the 4x4 example of section 6")
rng = np.random.default_rng(4)
x = rng.normal(size=(2, 3, 9, 8))
check_close(run_student(avg_pool2d_forward, x, 3, 2, forbid=refs), pooling.avg_pool2d_forward(x, 3, 2)[0],
            "avg_pool2d_forward(k=3, stride=2) compared with dlcore")
### BEGIN HIDDEN TESTS
for seed in range(5):
    rng = np.random.default_rng(700 + seed)
    k = int(rng.integers(1, 4)); s = int(rng.integers(1, 4))
    x = rng.normal(size=(int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(k, 10)), int(rng.integers(k, 10))))
    check_close(run_student(avg_pool2d_forward, x, k, s, forbid=refs), pooling.avg_pool2d_forward(x, k, s)[0],
                f"avg_pool2d_forward on x{x.shape}, k={k}, stride={s}")
x = rng.normal(size=(1, 2, 7, 5))
check_close(run_student(avg_pool2d_forward, x, 2, forbid=refs), pooling.avg_pool2d_forward(x, 2)[0],
            "avg_pool2d_forward with stride=None on an odd size (the last row is dropped)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch07-channels-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Written question 1 (2 points)
#
# A conv layer takes the 3-channel photo and has 16 kernels of size 5×5. What is the shape of its
# weight array, how many parameters does it have (with biases), and how many channels does its
# output have? Would a fully connected layer mapping the 64×64×3 photo to a 16×60×60 output need
# more or fewer weights — and what does the convolution assume that the fully connected layer does not?
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch07-channels-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# The weights have shape (F, C, KH, KW) = (16, 3, 5, 5): 16·3·5·5 = 1,200 weights plus 16 biases,
# 1,216 parameters. The output has 16 channels, one per kernel (60×60 each without padding:
# 64 − 5 + 1 = 60). A fully connected layer from 64·64·3 = 12,288 inputs to 16·60·60 = 57,600 outputs
# needs 12,288 · 57,600 ≈ 7.1·10⁸ weights — about 580,000 times more. The convolution assumes
# *locality* (each output depends only on a 5×5 neighbourhood, in all channels) and *weight sharing*
# (the same kernel is applied at every position, so a pattern is detected the same way wherever it
# appears); a fully connected layer assumes neither.
#
# **Rubric (2 points).**
# - 1 point — the count: weights (16, 3, 5, 5) = 1,200 plus 16 biases = 1,216; 16 output channels of 60×60. Half a point for the right weight shape with an arithmetic slip, or for forgetting the biases.
# - 1 point — the comparison (about 7.1·10⁸ weights fully connected, ~580,000 times more) and the two assumptions, locality and weight sharing. Half a point for the assumptions without the comparison (or the reverse).

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch07-pooling-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Written question 2 (2 points)
#
# Pooling has no parameters, so nothing in it is learned. What does it still contribute to a CNN?
# Name one situation in which max pooling and average pooling give very different outputs, using
# the 4×4 example or the explorer.
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch07-pooling-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# Pooling shrinks every feature map (here by 2 in each direction, a quarter of the cells), which cuts the
# computation and the number of weights of the layers after it, and lets the next conv layer's kernels
# see a larger part of the image. It also gives a little tolerance to small shifts: the maximum of a
# window does not change when the strongest response moves inside the window. The two differ most when
# a window holds one strong response among weak ones — a sparse edge map after ReLU, or the 4×4
# example's bottom-left window [0, 1; 2, 7]: max pooling keeps 7, average pooling gives 2.5. Max
# pooling reports "the pattern is somewhere here, this strongly"; average pooling dilutes it by k².
#
# **Rubric (2 points).**
# - 1 point — what pooling buys: smaller maps (less computation, fewer weights after it), a larger field of view for the next layer, a little shift tolerance. Half a point for one benefit only.
# - 1 point — when max and average differ most: one strong response among weak ones (e.g. the window [0, 1; 2, 7]: 7 against 2.5), average pooling dilutes it by k². Half a point for "max keeps the strongest" without an example or the dilution.

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once (every option has one, so a
# wrong choice teaches something too). Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("A 64×64 input, a 3×3 kernel, padding 0, stride 1: the output is …", [
    ("64 × 64", False, "That needs padding 1: ⌊(64 + 2 − 3)/1⌋ + 1 = 64."),
    ("62 × 62", True, "⌊(64 + 2·0 − 3)/1⌋ + 1 = 62 (section 3's formula)."),
    ("61 × 61", False, "The + 1 of the formula: a 3-wide window fits at 62 positions across 64 cells."),
])

# %%
ask("Set the explorer's stride to 2 (padding 0). The conv output height becomes …", [
    ("31", True, "⌊(64 − 3)/2⌋ + 1 = 31."),
    ("32", False, "64/2 = 32 forgets that the window must fit: ⌊(64 − 3)/2⌋ + 1 = 31."),
    ("30", False, "⌊61/2⌋ = 30, plus the + 1 of the formula."),
], predict="Work it out with the formula first, then move the slider.")

# %%
ask("How many parameters does MaxPool2d(2) have?", [
    ("4, one per cell of the window", False, "Pooling has no weights: it takes the maximum of what is there."),
    ("0", True, "Max and average pooling have nothing to learn (section 6's count)."),
    ("one per channel", False, "That would be a batch-norm-like scale; pooling has none."),
])

# %%
ask("Trained on the digits with the same seeds, which pooling gave the higher test accuracy?", [
    ("max pooling", True, "About 0.96 against 0.93, with every seed: the maximum keeps a stroke's strong response."),
    ("average pooling", False, "It dilutes the few strong responses of a ReLU map with the zeros around them."),
    ("the same", False, "Max pooling won with every one of the three seeds."),
])

# %% [markdown]
# ## Glossary / 术语表
#
# | English | 中文 | in this chapter |
# |---|---|---|
# | convolution | 卷积 | sliding a kernel over the input, multiply-and-sum at each position (cross-correlation) |
# | kernel (filter) | 卷积核 | weights (F, C, KH, KW): F kernels, C layers each; learned |
# | channel | 通道 | the C axis of NCHW: R, G, B for a photo; one per kernel after a conv |
# | feature map | 特征图 | one output channel of a conv layer |
# | stride | 步长 | how far the kernel jumps; H_out = ⌊(H + 2P − K)/S⌋ + 1 |
# | padding | 填充 | rings of zeros added around the input |
# | pooling | 池化 | summarising each window of a feature map; no parameters |
# | max pooling | 最大池化 | the largest value in each window |
# | average pooling | 平均池化 | the mean of each window |
# | ReLU | 线性整流函数 | max(z, 0), cell by cell on every feature map |
# | softmax / logits | softmax / 未归一化的得分（logit） | the head turns 10 logits into class probabilities |
# | convolutional neural network | 卷积神经网络 | conv → ReLU → pool blocks, then a fully connected head |
