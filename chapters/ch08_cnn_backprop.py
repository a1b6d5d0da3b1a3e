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
# # Chapter 8 — Backpropagation through a CNN: the error term δ through pooling and convolution
#
# Backpropagation (反向传播) sends the **error term** δ = ∂L/∂z (残差 in the study notes; not the "residual" of a ResNet)
# backwards, layer by layer; for
# fully connected layers the rule is a matrix product with the transposed weights. A CNN
# has two new kinds of layer, and each needs its own backward rule:
#
# * a **pooling** layer (池化) has no weights, yet it shrank its input — so its backward pass must
#   restore δ to the input's size (上采样 *upsampling*);
# * a **convolution** layer (卷积) shares one small kernel (卷积核) over every position — so its
#   backward pass sums the contributions of every position. The result is again a convolution:
#   the *full* convolution of δ with the kernel **rotated by 180°** (旋转180度).
#
# You will watch δ flow backwards cell by cell, check every rule with numbers against
# `dlcore` and against a numerical gradient, and then write the three backward passes yourself.
#
# **After this chapter you can**
# 1. route δ back through max pooling (最大池化, to the arg-max "switch") and average pooling
#    (平均池化, δ/k² to every cell of the window), and say why both keep Σδ;
# 2. derive δ of the layer below a convolution as `full_conv(δ, rot180(w)) ⊙ f'(z)`, and compute
#    dW (the correlation of the layer's input with δ) and db (the sum of δ); with stride S, dilate δ
#    first (S − 1 zeros between its entries) and mind the edge the forward never reached;
# 3. chain the rules through conv → ReLU → pool → conv and confirm them by a gradient check;
# 4. find the bug in a wrong backward pass with a gradient check.
#
# **Prerequisites**: chapters 1–3 (the chain rule, softmax and cross-entropy 交叉熵, ReLU and its
# derivative) and chapter 7 (convolution with channels, stride, padding; max and average pooling).

# %% nbgrader={"grade": false, "grade_id": "ch08-setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
# %matplotlib widget
import numpy as np
import dlcore.testing  # first: it snapshots numpy and dlcore before any student code runs
from dlcore import conv, pooling, activations, gradcheck, nn, data
from dlcore.explorers import ch08
from dlcore.explorers.ch08 import load_input, kernel_bank  # chapter 7's photo and kernels (dlcore.chapters.images)
dlcore.testing.assert_untampered()  # the dlcore modules imported above join the snapshot
np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. What we send backwards
#
# For one layer `out = layer(inp)` the backward pass receives **δ_out = ∂L/∂out** (same shape as
# `out`) and must return **δ_in = ∂L/∂inp** (same shape as `inp`), plus the gradients of the
# layer's weights. By the chain rule every input cell collects the δ of every output cell it
# influenced, weighted by how strongly it influenced it:
#
# $$\delta_{in}[r] \;=\; \sum_{i} \delta_{out}[i]\;\frac{\partial\, out[i]}{\partial\, inp[r]} .$$
#
# The whole chapter is this one sum, worked out for pooling and for convolution. We use the
# stack of chapter 7: `x → conv → z → ReLU → a → pool → p → … → L`, and write δz, δa, δp for the
# error terms at z, a and p.

# %% [markdown]
# ## 2. Pooling's error term: no weights, δ restored to the input's size
#
# **Max pooling** outputs `p[i] = max over window i of a`. Its derivative with respect to a cell of
# the window is 1 for the cell that held the maximum and 0 for the others. So δp[i] goes, whole,
# to that one cell — the **switch** the forward pass recorded — and every other cell gets 0.
# (With tied values PyTorch, and `dlcore`, pick the first maximum in row-major order.)
#
# **Average pooling** outputs `p[i] = (1/k²) Σ window i`. Every cell has derivative 1/k², so
# δp[i] is spread evenly as **δp[i]/k²** over the k² cells — nearest-neighbour upsampling of δ,
# divided by k².
#
# A 4×4 worked example with 2×2 windows (stride 2):

# %%
a = np.array([[1., 3., 2., 0.],
              [4., 2., 1., 5.],
              [0., 1., 6., 2.],
              [2., 7., 3., 1.]])[None, None]          # (N, C, H, W) = (1, 1, 4, 4)
dp = np.array([[0.1, -0.2],
               [0.3,  0.4]])[None, None]             # δ arriving at the 2×2 pooled output

p_max, cache_max = pooling.max_pool2d_forward(a, 2)
p_avg, cache_avg = pooling.avg_pool2d_forward(a, 2)
da_max = pooling.max_pool2d_backward(dp, cache_max)
da_avg = pooling.avg_pool2d_backward(dp, cache_avg)
switches = pooling.max_pool2d_backward(np.ones_like(p_max), cache_max) != 0   # where a δ of 1 lands

# %%
ch08.show_maps_with_numbers(
    [a[0, 0], p_max[0, 0], dp[0, 0], da_max[0, 0], da_avg[0, 0]],
    ["a (forward input)", "max pool(a)", "δp (given)", "δa via max pool", "δa via avg pool"],
    highlight={0: switches[0, 0], 3: switches[0, 0]}, figsize=(12, 2.9))

# %%
print("max pool: δ lands on the switches only  ->", np.array_equal(da_max != 0, switches))
print("          each δp value reappears once   ->", sorted(da_max[da_max != 0]) == sorted(dp.ravel()))
print("avg pool: δa = upsample(δp) / k²         ->", np.allclose(da_avg, np.kron(dp, np.ones((2, 2))) / 4))
print(f"sum of δ: δp {dp.sum():.3f}   δa(max) {da_max.sum():.3f}   δa(avg) {da_avg.sum():.3f}")

# %% [markdown]
# The numbers say: max pooling's δa holds exactly the four values of δp, each in its window's
# green switch cell, zeros elsewhere; average pooling's δa holds δp/4 in all four cells of each
# window. Both **preserve the sum** Σδ: max moves each value without changing it, average splits
# it into k² equal parts. Neither has a weight gradient — pooling has no parameters.
#
# ### On real feature maps
#
# The same rules on a real feature map: the photograph of chapter 7 through an edge kernel and
# ReLU (a 62×62 map), pooled 2×2, with a random δ at the pooled map.

# %%
x_photo = load_input(64)                                      # (1, 3, 64, 64)
w_edge, _ = kernel_bank("edge", 1)                            # one vertical-edge kernel (1, 3, 3, 3)
z_photo, _ = conv.conv2d_forward(x_photo, w_edge, np.zeros(1))
fmap = np.maximum(z_photo, 0)                                 # (1, 1, 62, 62)
rng = np.random.default_rng(0)
p_fmap, c_max = pooling.max_pool2d_forward(fmap, 2)
_, c_avg = pooling.avg_pool2d_forward(fmap, 2)
delta = rng.normal(size=(1, 1, 31, 31))
d_max = pooling.max_pool2d_backward(delta, c_max)
d_avg = pooling.avg_pool2d_backward(delta, c_avg)
print(f"cells that receive δ: max {np.mean(d_max != 0):.3f} of the map, avg {np.mean(d_avg != 0):.3f}")
print(f"Σδ: pooled {delta.sum():.4f}  max-backward {d_max.sum():.4f}  avg-backward {d_avg.sum():.4f}")
print(f"windows that are all 0 after ReLU (a tie): {np.mean(p_fmap == 0):.3f};  "
      f"cells whose δ also passes ReLU (z > 0): {np.mean((d_max != 0) & (z_photo > 0)):.3f} of the map")

# %%
ch08.show_real_backflow(fmap, delta, d_max, d_avg)

# %% [markdown]
# Max pooling sends gradient to exactly one cell in four (0.25 of the map): the other three
# quarters pass nothing further down in this step. Average pooling feeds every cell, but each with
# a quarter of the signal. In flat regions of the photo the ReLU map is all 0 over a whole window
# (23 % of the windows here) and the "maximum" is a tie: the δ goes to the window's first cell, where
# z ≤ 0 and ReLU's derivative is 0 — so it dies one layer further down, at the ReLU. Only 19 % of
# the cells pass δ on to the convolution below.
#
# ## 3. Conv's error term: the full convolution with the kernel rotated by 180°
#
# Take one channel, stride 1, no padding: `z[i, j] = Σ_u Σ_v x[i+u, j+v] · w[u, v] + b`.
# Input cell x[r, s] appears in output z[i, j] with weight w[r−i, s−j] (when that index is inside
# the kernel). The chain-rule sum of section 1 gives
#
# $$\delta x[r,s] \;=\; \sum_{i,j} \delta z[i,j]\; w[r-i,\, s-j].$$
#
# Two ways to read this sum:
# * **scatter**: each δz[i, j] stamps a copy of the kernel, scaled by δz[i, j], onto the input
#   cells it came from;
# * **gather**: each input cell slides a window over δz — padded by K−1 zeros on every side — and
#   the kernel is met **backwards** in both directions, i.e. rotated by 180°. That is the *full
#   convolution* `δx = full_conv(δz, rot180(w))`, and its output has the input's size
#   H = H_out + K − 1.
#
# A single δ shows the scatter view: δx is the kernel itself, placed where it was applied.

# %%
rng = np.random.default_rng(1)
x1 = np.round(rng.normal(size=(1, 1, 6, 6)), 1)
w1 = np.array([[1., 2., 3.],
               [4., 5., 6.],
               [7., 8., 9.]])[None, None]             # easy to recognise, not symmetric
z1, cache1 = conv.conv2d_forward(x1, w1, np.zeros(1))  # (1, 1, 4, 4)
dz1 = np.zeros_like(z1); dz1[0, 0, 1, 2] = 1.0         # a single δ
dx1, dw1, db1 = conv.conv2d_backward(dz1, cache1)
ch08.show_maps_with_numbers([w1[0, 0], dz1[0, 0], dx1[0, 0], conv.rot180(w1)[0, 0]],
                            ["kernel w", "δz: one cell", "δx = the kernel, stamped", "rot180(w)"],
                            figsize=(10, 2.8))

# %%
dz2 = np.round(rng.normal(size=z1.shape), 1)                        # a δ everywhere
dx2, dw2, db2 = conv.conv2d_backward(dz2, cache1)
gather = conv.full_convolve2d(dz2[0, 0], conv.rot180(w1[0, 0]))     # pad δ by K−1, slide rot180(w) over it
print("δx from conv2d_backward:\n", dx2[0, 0])
print("max |δx − full_conv(δz, rot180 w)| =", np.abs(dx2[0, 0] - gather).max())
f = lambda xx: np.sum(conv.conv2d_forward(xx, w1, np.zeros(1))[0] * dz2)   # L with ∂L/∂z = δz
print("max relative error against a numerical gradient:",
      gradcheck.max_relative_error(dx2, gradcheck.numerical_gradient(f, x1)))

# %% [markdown]
# ### Channels, padding, and the activation below
#
# With C input channels and F kernels, input channel c received a contribution from every
# kernel f, so δx[c] = Σ_f full_conv(δz[f], rot180(w[f, c])). Padding P only means the forward
# pass saw a padded x: compute δ for the padded input and crop P cells from each border.
#
# If x is itself the output of an activation, `x = f(z_below)`, one more chain-rule factor gives
# the error term of the layer below:
#
# $$\delta z_{below} = \operatorname{fullconv}\big(\delta z,\ \operatorname{rot180}(w)\big) \odot f'(z_{below}).$$

# %%
rng = np.random.default_rng(2)
x3 = rng.normal(size=(2, 3, 7, 7))
w3 = rng.normal(size=(4, 3, 3, 3))
z3, cache3 = conv.conv2d_forward(x3, w3, rng.normal(size=4), padding=1)   # (2, 4, 7, 7)
dz3 = rng.normal(size=z3.shape)
dx3, dw3, db3 = conv.conv2d_backward(dz3, cache3)
by_formula = np.zeros((2, 3, 9, 9))                 # the padded input's size
for n in range(2):
    for c in range(3):
        for f in range(4):
            by_formula[n, c] += conv.full_convolve2d(dz3[n, f], conv.rot180(w3[f, c]))
by_formula = by_formula[:, :, 1:-1, 1:-1]           # crop the padding
print("δx: max |conv2d_backward − Σ_f full_conv| =", np.abs(dx3 - by_formula).max())

# %% [markdown]
# ### The weight and bias gradients
#
# w[f, c, u, v] multiplied x[n, c, i+u, j+v] in every output z[n, f, i, j], so
#
# $$dW[f,c,u,v] = \sum_{n,i,j} x_{pad}[n,c,i+u,j+v]\;\delta z[n,f,i,j], \qquad db[f] = \sum_{n,i,j} \delta z[n,f,i,j].$$
#
# dW is the **correlation of the layer's input with δ** — the forward convolution again, with δ
# in the role of the kernel — and db the sum of δ. Below we compute dW exactly that way, by calling
# the forward `conv2d_forward` with x's channels as the batch and δ's channels as kernels.

# %%
x3p = np.pad(x3, ((0, 0), (0, 0), (1, 1), (1, 1)))
dw_corr, _ = conv.conv2d_forward(x3p.transpose(1, 0, 2, 3), dz3.transpose(1, 0, 2, 3), None)
dw_corr = dw_corr.transpose(1, 0, 2, 3)             # (F, C, 3, 3)
print("dW: max |conv2d_backward − corr(x, δz)| =", np.abs(dw3 - dw_corr).max())
print("db: max |conv2d_backward − Σ δz|        =", np.abs(db3 - dz3.sum(axis=(0, 2, 3))).max())
L3 = lambda ww: np.sum(conv.conv2d_forward(x3, ww, np.zeros(4), padding=1)[0] * dz3)
print("dW against a numerical gradient, max relative error:",
      gradcheck.max_relative_error(dw3, gradcheck.numerical_gradient(L3, w3)))

# %% [markdown]
# ### Stride > 1: dilate δ first (空洞 / 膨胀)
#
# With stride S the forward pass reads the input only at every S-th position,
# `z[i, j] = Σ_u Σ_v x[S·i+u, S·j+v] · w[u, v] + b`, so input cell x[r, s] meets the weight
# w[r − S·i, s − S·j] and the chain-rule sum of section 1 becomes
#
# $$\delta x[r,s] \;=\; \sum_{i,j} \delta z[i,j]\; w[r - S i,\, s - S j].$$
#
# Put δz back on the stride-1 grid: the **dilated** δ (膨胀, or 空洞 "with holes") holds δz[i, j]
# at (S·i, S·j) and zeros everywhere else — **S − 1 zeros** between neighbouring entries, in rows
# and in columns, so it has (H_out − 1)·S + 1 rows. With the dilated δ in place of δz, the sum is
# the stride-1 sum worked out above, and so are the weight gradients:
#
# $$\delta x = \operatorname{fullconv}\big(\operatorname{dilate}_S(\delta z),\ \operatorname{rot180}(w)\big), \qquad
# dW[f,c] = \operatorname{corr}\big(x_{pad}[c],\ \operatorname{dilate}_S(\delta z[f])\big), \qquad db[f] = \sum \delta z[f]$$
#
# (the inserted zeros add nothing to db). In the scatter view nothing changes but the place:
# each δz[i, j] stamps the kernel at (S·i, S·j) instead of (i, j).
#
# **The edge the forward never reached.** The full convolution of the dilated δ has
# (H_out − 1)·S + K rows, but the padded input has H + 2P = (H_out − 1)·S + K + ((H + 2P − K) mod S).
# When H + 2P − K is not a multiple of S, the last (H + 2P − K) mod S rows (and, the same way, the
# last columns) were inside no window: no output used them, so their δ is 0. Append them as zero
# rows at the bottom and zero columns on the right, *then* crop the padding. This is where an
# off-by-one hides: dx a row short, or the zero row put at the top, shifting everything by one.
#
# The worked case: the 6×6 input and the 1…9 kernel of the single-δ example, stride 2. z is 2×2,
# the dilated δ 3×3, its full convolution 5×5, and (6 − 3) mod 2 = 1 row and 1 column of the
# input were never reached.

# %%
z4, cache4 = conv.conv2d_forward(x1, w1, np.zeros(1), stride=2)     # (1, 1, 2, 2)
dz4 = np.array([[1.0, -2.0], [0.5, 2.0]])[None, None]
dx4, dw4, db4 = conv.conv2d_backward(dz4, cache4)
dilated = ch08.dilate(dz4[0, 0], 2)                                 # 3×3: one zero between entries
core = conv.full_convolve2d(dilated, conv.rot180(w1[0, 0]))         # 5×5
unreached = (6 - 3) % 2                                             # rows (and columns) no window reached
by_formula = np.pad(core, ((0, unreached), (0, unreached)))         # back to the input's 6×6
never = np.ones((6, 6), dtype=bool); never[:5, :5] = False          # the unreached row and column
ch08.show_maps_with_numbers([dz4[0, 0], dilated, core, dx4[0, 0]],
                            ["δz (stride 2)", "dilate(δz): 1 zero between", "full_conv(·, rot180 w)",
                             "δx: + the unreached edge"],
                            highlight={1: dilated != 0, 3: never}, figsize=(12, 3.2))

# %%
print("δx: max |conv2d_backward − full_conv(dilate δz, rot180 w), edge appended| =",
      np.abs(dx4[0, 0] - by_formula).max())
print("δx at (2, 2), a cell inside all four windows:", dx4[0, 0, 2, 2], "= 9·1 + 7·(−2) + 3·0.5 + 1·2")
dw_corr4 = np.array([[np.sum(x1[0, 0, u:u + 3, v:v + 3] * dilated) for v in range(3)] for u in range(3)])
print("dW: max |conv2d_backward − corr(x, dilate δz)| =", np.abs(dw4[0, 0] - dw_corr4).max(),
      "| db =", db4, "= Σ δz")
L4 = lambda xx: np.sum(conv.conv2d_forward(xx, w1, np.zeros(1), stride=2)[0] * dz4)
print("δx against a numerical gradient, max relative error:",
      gradcheck.max_relative_error(dx4, gradcheck.numerical_gradient(L4, x1)))

# %% [markdown]
# In the figure the green boxes mark the four δz values in the dilated δ, and the unreached row and
# column of δx, which are 0. δx from the dilated δ and dW from the correlation with it agree with
# `dlcore` to rounding (differences below 1e-14), and δx with the numerical gradient (relative error
# below 1e-9); db = 1 − 2 + 0.5 + 2 = 1.5. The centre cell (2, 2) lies in all four windows and
# collects all four stamps, 9·1 + 7·(−2) + 3·0.5 + 1·2 = −1.5: with K > S the windows overlap and the
# stamps add, as overlapping pooling windows did.

# %% [markdown]
# ## 4. A conv layer preceded by a pooling layer
#
# In a real CNN the layers alternate: `x → conv1 → ReLU → maxpool → conv2 → L`. Going back,
# conv2's backward rule gives δ at the *pooled* map; this δ must be routed **through the pool
# first** (to the switches), then multiplied by ReLU's f'(z1), and only then does conv1's rule
# apply. `dlcore.nn.Sequential.backward` does exactly these steps in reverse order; we compare it
# with a numerical gradient of the whole chain.

# %%
rng = np.random.default_rng(3)
net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(2, 3, 3, rng=rng))
x5 = rng.normal(size=(2, 1, 8, 8))
g5 = rng.normal(size=net.forward(x5).shape)           # L = Σ out ⊙ g5, so δ at the top is g5
dx5 = net.backward(g5)
num5 = gradcheck.numerical_gradient(lambda xx: np.sum(net.forward(xx) * g5), x5)
print("shapes: x", x5.shape, "→ conv1", net[0](x5).shape, "→ pool", net[2](net[1](net[0](x5))).shape,
      "→ conv2", net.forward(x5).shape)
print("δx through conv2 → pool → ReLU → conv1, max relative error vs numerical:",
      gradcheck.max_relative_error(dx5, num5))

# %% [markdown]
# The same chain one layer at a time, for the first image and channel 0: δ arrives at the pooled
# map (4×4), is routed to the switches (8×8, one cell in four), is cut where conv1's z ≤ 0, and
# only then spreads through conv1's rotated kernel to the input.

# %%
net.forward(x5)
d_pooled = net[3].backward(g5)            # conv2's rule: δ at the pooled map (2, 2, 4, 4)
d_relu_out = net[2].backward(d_pooled)    # through the pool first: to the switches (2, 2, 8, 8)
d_z1 = net[1].backward(d_relu_out)        # times ReLU's f'(z1)
d_x = net[0].backward(d_z1)               # conv1's rule: full convolution with rot180(w1)
print("equals Sequential.backward:", np.allclose(d_x, dx5),
      "| cells with δ after the pool:", np.count_nonzero(d_relu_out[0, 0]), "of 64")
ch08.show_maps_with_numbers([d_pooled[0, 0], d_relu_out[0, 0], d_z1[0, 0], d_x[0, 0]],
                            ["δ at the pooled map", "through max pool", "× f'(z1)", "δx through conv1"],
                            fontsize=6, number_format="{:.2f}", figsize=(12, 3.2))

# %% [markdown]
# ## 5. Explorer: watch the error term δ flow back
#
# A tiny stack `x (1×1×8×8) → conv 3×3 → ReLU → pool 2×2`. Pick where δ sits at the top (one cell,
# all ones, or random), then walk **step** from 0 to 3:
#
# 0. δ at the top; 1. through the pool — green boxes are the max-pool switches (or, for average
# pooling, the window that shares δ/4); 2. through ReLU — the grey veil marks cells with z ≤ 0,
# which pass nothing; 3. through the conv — δx is the full convolution of δz with rot180(w), and
# dW, db appear. The gold box on δx (and on x) is the patch of the input that the one top δ reaches.
# In the δ maps an exact zero is left blank, so the cells that δ reaches stand out.
#
# Try: max vs avg with one cell (1 cell vs 4 cells receive δ; how big is the gold patch?); a top
# cell whose window is all ≤ 0 (its δ dies at the ReLU); `padding` 1; the read-out checks
# `conv2d_backward` against the full-convolution formula and dW against the correlation.

# %%
ch08.backprop_explorer()
#
# **How your work is graded.** The test cells check your functions as you go. For your grade, the
# autograder runs your solution cells again in a fresh process of its own, with its own cases (hidden
# ones too), and decides there; what a test cell prints here is for you. In that process `dlcore` offers only `gradcheck.numerical_gradient`
# (its reference implementations are not there), so build each answer from numpy and your own code, and
# keep any helper you write in a solution cell or in a cell you add.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch08-maxpool-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Exercise 1 — `max_pool2d_backward` (3 points)
#
# Write the backward pass of max pooling with square windows of size `kernel_size` and the given
# `stride` (`None` means `stride = kernel_size`; windows may overlap). You receive the forward
# pass's input `x` (recompute the switches from it) and `dout` = δ at the pooled output. Return
# `dx` of `x`'s shape: for every window, add `dout` of that window to the position of the window's
# maximum (the **first** maximum in row-major order if there is a tie); zeros elsewhere. When
# windows overlap, a cell can receive δ from several windows: **add**, do not overwrite.
#
# Loops are welcome. Do not call `dlcore.pooling.max_pool2d_backward`.
#

# %% nbgrader={"grade": false, "grade_id": "ch08-maxpool-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    """Error term δ through max pooling: route each δ to its window's arg-max.

    dout: (N, C, H_out, W_out) δ at the pooled output.
    x: (N, C, H, W) the forward input. kernel_size: int; stride: int or None (= kernel_size).
    Returns dx: (N, C, H, W), zeros except at the switches (ties: first maximum, row-major).
    """
    ### BEGIN SOLUTION
    k = kernel_size
    s = k if stride is None else stride
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")   # every image and channel at once
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(N, C, k * k)
            r, q = np.divmod(window.argmax(axis=2), k)                # the first maximum, row-major
            dx[n, c, i * s + r, j * s + q] += dout[:, :, i, j]
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch08-maxpool-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import pooling
from dlcore.testing import check_close, check_shape, check_gradient, run_student
ref = pooling.max_pool2d_backward
# the worked example of section 2
a = np.array([[1., 3., 2., 0.], [4., 2., 1., 5.], [0., 1., 6., 2.], [2., 7., 3., 1.]])[None, None]
dp = np.array([[0.1, -0.2], [0.3, 0.4]])[None, None]
got = run_student(max_pool2d_backward, dp, a, 2, forbid=(ref,))
check_shape(got, (1, 1, 4, 4), "max_pool2d_backward on the 4x4 example")
expected = np.array([[0, 0, 0, 0], [0.1, 0, 0, -0.2], [0, 0, 0.4, 0], [0, 0.3, 0, 0]])[None, None]
check_close(got, expected, "max_pool2d_backward on the 4x4 example (δ to each window's maximum)")
# compared with dlcore on a seeded input, overlapping windows (k=3, stride 2)
rng = np.random.default_rng(8)
x = rng.normal(size=(2, 3, 9, 9))
out, cache = pooling.max_pool2d_forward(x, 3, 2)
dout = rng.normal(size=out.shape)
check_close(run_student(max_pool2d_backward, dout, x, 3, 2, forbid=(ref,)), ref(dout, cache),
            "max_pool2d_backward(k=3, stride=2) compared with dlcore")
### BEGIN HIDDEN TESTS
for seed in range(4):
    rng = np.random.default_rng(100 + seed)
    N, C = rng.integers(1, 3, size=2)
    k = int(rng.integers(2, 4)); s = int(rng.integers(1, k + 1))
    H, W = rng.integers(k, 11, size=2)
    x = rng.normal(size=(N, C, H, W))
    out, cache = pooling.max_pool2d_forward(x, k, s)
    dout = rng.normal(size=out.shape)
    got = run_student(max_pool2d_backward, dout, x, k, s, forbid=(ref,))
    check_close(got, ref(dout, cache), f"max_pool2d_backward on x{x.shape}, k={k}, stride={s}")
    check_gradient(lambda xx: np.sum(pooling.max_pool2d_forward(xx, k, s)[0] * dout), x, got,
                   f"max_pool2d_backward k={k}, stride={s}")
# ties go to the first maximum (row-major), as in PyTorch
x = np.zeros((1, 1, 4, 4))
got = run_student(max_pool2d_backward, np.ones((1, 1, 2, 2)), x, 2, forbid=(ref,))
check_close(got, ref(np.ones((1, 1, 2, 2)), pooling.max_pool2d_forward(x, 2)[1]), "max_pool2d_backward with ties")
# stride=None means stride = kernel_size; odd sizes drop the last row/column
x = rng.normal(size=(1, 2, 5, 7))
out, cache = pooling.max_pool2d_forward(x, 2)
dout = rng.normal(size=out.shape)
check_close(run_student(max_pool2d_backward, dout, x, 2, forbid=(ref,)), ref(dout, cache),
            "max_pool2d_backward with stride=None on a 5x7 input")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch08-avgpool-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Exercise 2 — `avg_pool2d_backward` (2 points)
#
# Write the backward pass of average pooling: each `dout[n, c, i, j]` is spread evenly, as
# `dout / kernel_size²`, over the cells of its window (add where windows overlap). You receive the
# forward input's shape `x_shape` (average pooling needs nothing else from the forward pass).
# Return `dx` of shape `x_shape`. Do not call `dlcore.pooling.avg_pool2d_backward`.
#

# %% nbgrader={"grade": false, "grade_id": "ch08-avgpool-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def avg_pool2d_backward(dout, x_shape, kernel_size, stride=None):
    """Error term δ through average pooling: spread each δ as δ/k² over its window.

    dout: (N, C, H_out, W_out); x_shape: (N, C, H, W) of the forward input.
    kernel_size: int; stride: int or None (= kernel_size).
    Returns dx: (N, C, H, W).
    """
    ### BEGIN SOLUTION
    k = kernel_size
    s = k if stride is None else stride
    H_out, W_out = dout.shape[2:]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * s:i * s + k, j * s:j * s + k] += dout[:, :, i:i + 1, j:j + 1] / (k * k)
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch08-avgpool-test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import pooling
from dlcore.testing import check_close, check_shape, check_gradient, run_student
ref = pooling.avg_pool2d_backward
dp = np.array([[0.1, -0.2], [0.3, 0.4]])[None, None]
got = run_student(avg_pool2d_backward, dp, (1, 1, 4, 4), 2, forbid=(ref,))
check_shape(got, (1, 1, 4, 4), "avg_pool2d_backward on the 4x4 example")
expected = np.array([[0.025, 0.025, -0.05, -0.05], [0.025, 0.025, -0.05, -0.05],
                     [0.075, 0.075, 0.1, 0.1], [0.075, 0.075, 0.1, 0.1]])[None, None]
check_close(got, expected, "avg_pool2d_backward on the 4x4 example (δ/4 to every cell)")
rng = np.random.default_rng(9)
x = rng.normal(size=(2, 3, 8, 8))
out, cache = pooling.avg_pool2d_forward(x, 2)
dout = rng.normal(size=out.shape)
check_close(run_student(avg_pool2d_backward, dout, x.shape, 2, forbid=(ref,)), ref(dout, cache),
            "avg_pool2d_backward(k=2) compared with dlcore")
### BEGIN HIDDEN TESTS
for seed in range(4):
    rng = np.random.default_rng(200 + seed)
    N, C = rng.integers(1, 3, size=2)
    k = int(rng.integers(2, 4)); s = int(rng.integers(1, k + 1))
    H, W = rng.integers(k, 11, size=2)
    x = rng.normal(size=(N, C, H, W))
    out, cache = pooling.avg_pool2d_forward(x, k, s)
    dout = rng.normal(size=out.shape)
    got = run_student(avg_pool2d_backward, dout, x.shape, k, s, forbid=(ref,))
    check_close(got, ref(dout, cache), f"avg_pool2d_backward on x{x.shape}, k={k}, stride={s}")
    check_gradient(lambda xx: np.sum(pooling.avg_pool2d_forward(xx, k, s)[0] * dout), x, got,
                   f"avg_pool2d_backward k={k}, stride={s}")
x = rng.normal(size=(1, 1, 7, 5))
out, cache = pooling.avg_pool2d_forward(x, 3)
dout = rng.normal(size=out.shape)
check_close(run_student(avg_pool2d_backward, dout, x.shape, 3, forbid=(ref,)), ref(dout, cache),
            "avg_pool2d_backward with stride=None on a 7x5 input (last row/column get nothing)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch08-convback-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Exercise 3 — `conv2d_backward` (7 points: dx 3, dw 1, db 1, stride 2)
#
# Write the backward pass of a convolution with zero padding `padding` and stride `stride`
# (one int for both axes), `conv2d_backward(dout, x, w, padding=0, stride=1) -> (dx, dw, db)`:
#
# * **dilate** — with stride S > 1, first insert S − 1 zeros between the entries of `dout`, in rows
#   and columns: `d` of shape (N, F, (H_out − 1)·S + 1, (W_out − 1)·S + 1), `d[:, :, ::S, ::S] = dout`
#   (for S = 1, `d` is `dout`);
# * `dx` — for each input channel c: Σ_f full_conv(d[n, f], rot180(w[f, c])) gives δ of the padded
#   input, except its last (H + 2P − KH) mod S rows and (W + 2P − KW) mod S columns, which no window
#   reached and whose δ is 0; append them, then crop `padding` from every side;
# * `dw[f, c]` — the correlation of the padded input with `d`: Σ_n Σ_pq x_pad[n, c, u+p, v+q]·d[n, f, p, q]
#   (the same as Σ_n Σ_ij x_pad[n, c, S·i+u, S·j+v]·dout[n, f, i, j]);
# * `db[f]` — the sum of `dout[:, f]`.
#
# Use the full convolution with the rotated kernel for `dx` (zero-pad `d` by K−1, slide `rot180(w)`
# over it) or, if you prefer, the scatter form (each `dout[n, f, i, j]` stamps `w[f]` at
# (S·i, S·j) of the padded input); loops are welcome, `w[:, :, ::-1, ::-1]` rotates. Do not call
# `dlcore.conv.conv2d_backward` (nor dlcore's `full_convolve2d`).
#
# The parts dx (3 points), dw (1) and db (1) are graded with stride 1, so a solution for stride 1
# earns those 5; the part "stride" (2 points) checks dx, dw and db together with strides 2 and 3,
# including shapes whose last rows or columns the forward never reached.
#
# Check your backward with your own gradient checker, the one you wrote in chapter 2. In a new cell,
# `from dlcore.workspace import carry; carry("eval_numerical_gradient", "rel_error")` brings your
# checker from chapter 2.
#

# %% nbgrader={"grade": false, "grade_id": "ch08-convback-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d_backward(dout, x, w, padding=0, stride=1):
    """Backward of a conv (padding P, stride S): dx = full_conv(dilated δ, rot180(w)), dw, db.

    dout: (N, F, H_out, W_out) δ at the conv output; x: (N, C, H, W) the forward input;
    w: (F, C, KH, KW); padding: int, the forward's zero padding; stride: int, the forward's stride.
    Returns (dx, dw, db) with shapes (N, C, H, W), (F, C, KH, KW), (F,).
    """
    ### BEGIN SOLUTION
    N, F, H_out, W_out = dout.shape
    _, C, H, W = x.shape
    KH, KW = w.shape[2:]
    P, S = padding, stride
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    dtype = np.result_type(x, w, dout)
    # dilate: S - 1 zeros between the entries of dout, so the stride-1 formulas apply
    HD, WD = (H_out - 1) * S + 1, (W_out - 1) * S + 1
    d = np.zeros((N, F, HD, WD), dtype=dtype)
    d[:, :, ::S, ::S] = dout
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros(w.shape, dtype=dtype)
    for u in range(KH):
        for v in range(KW):
            patch = xp[:, :, u:u + HD, v:v + WD]                  # (N, C, HD, WD)
            dw[:, :, u, v] = np.einsum("nchw,nfhw->fc", patch, d)
    w_rot = w[:, :, ::-1, ::-1]
    dpad = np.pad(d, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    # rows/columns past HD + KH - 1 (WD + KW - 1) were never reached by the forward: they stay 0
    dxp = np.zeros(xp.shape, dtype=dtype)
    for r in range(HD + KH - 1):
        for s in range(WD + KW - 1):
            window = dpad[:, :, r:r + KH, s:s + KW]               # (N, F, KH, KW)
            dxp[:, :, r, s] = np.einsum("nfuv,fcuv->nc", window, w_rot)
    dx = dxp[:, :, P:P + H, P:P + W]
    return dx, dw, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch08-convback-test", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import conv
from dlcore.testing import check_close, check_shape, check_gradient, part, run_student
# four independent parts: dx (3 points), dw (1), db (1) with stride 1; stride (2) with strides 2 and 3
refs = (conv.conv2d_backward, conv.full_convolve2d)
# one δ stamps the kernel onto the input (section 3)
x = np.arange(36, dtype=float).reshape(1, 1, 6, 6) / 10
w = np.arange(1, 10, dtype=float).reshape(1, 1, 3, 3)
dz = np.zeros((1, 1, 4, 4)); dz[0, 0, 1, 2] = 1.0
res = run_student(conv2d_backward, dz, x, w, forbid=refs)
assert isinstance(res, tuple) and len(res) == 3, f"conv2d_backward must return (dx, dw, db), got {type(res)}"
dx, dw, db = res
expected = np.zeros((1, 1, 6, 6)); expected[0, 0, 1:4, 2:5] = w[0, 0]
with part(3, "dx"):
    check_shape(dx, (1, 1, 6, 6), "dx")
    check_close(dx, expected, "dx for a single δ at (1, 2): the kernel placed at rows 1-3, columns 2-4")
with part(1, "dw"):
    check_shape(dw, (1, 1, 3, 3), "dw")
    check_close(dw, x[:, :, 1:4, 2:5], "dw for a single δ at (1, 2): the input patch it saw")
with part(1, "db"):
    check_shape(db, (1,), "db")
    check_close(db, [1.0], "db = sum of δ")
# compared with dlcore on a seeded input with channels and padding
rng = np.random.default_rng(10)
x = rng.normal(size=(2, 3, 6, 5)); w = rng.normal(size=(4, 3, 3, 3)); b = rng.normal(size=4)
out, cache = conv.conv2d_forward(x, w, b, padding=1)
dout = rng.normal(size=out.shape)
rdx, rdw, rdb = conv.conv2d_backward(dout, cache)
# your function is called inside each part: if it fails with padding, every part fails with it
with part(3, "dx"):
    dx = run_student(conv2d_backward, dout, x, w, 1, forbid=refs)[0]
    check_close(dx, rdx, "dx (padding=1) compared with dlcore")
with part(1, "dw"):
    dw = run_student(conv2d_backward, dout, x, w, 1, forbid=refs)[1]
    check_close(dw, rdw, "dw (padding=1) compared with dlcore")
with part(1, "db"):
    db = run_student(conv2d_backward, dout, x, w, 1, forbid=refs)[2]
    check_close(db, rdb, "db (padding=1) compared with dlcore")
# the worked stride-2 case of section 3: the last row and column of x were in no window
x = np.round(np.random.default_rng(1).normal(size=(1, 1, 6, 6)), 1)
w = np.arange(1, 10, dtype=float).reshape(1, 1, 3, 3)
dz = np.array([[1.0, -2.0], [0.5, 2.0]])[None, None]
rdx, rdw, rdb = conv.conv2d_backward(dz, conv.conv2d_forward(x, w, np.zeros(1), stride=2)[1])
with part(2, "stride"):
    dx, dw, db = run_student(conv2d_backward, dz, x, w, padding=0, stride=2, forbid=refs)
    check_shape(dx, (1, 1, 6, 6), "dx with stride 2 (the input's shape)")
    check_close(dx[0, 0, 5, :], np.zeros(6), "dx's last row with stride 2 (no window reached it)")
    check_close(dx[0, 0, :, 5], np.zeros(6), "dx's last column with stride 2 (no window reached it)")
    check_close(dx[0, 0, 2, 2], -1.5, "dx[0, 0, 2, 2] with stride 2 (in all four windows: 9·1 + 7·(−2) + 3·0.5 + 1·2)")
    check_close(dx, rdx, "dx with stride 2 compared with dlcore")
    check_close(dw, rdw, "dw with stride 2 compared with dlcore")
    check_close(db, [1.5], "db with stride 2 (the sum of δ)")
### BEGIN HIDDEN TESTS
for seed in range(3):
    rng = np.random.default_rng(300 + seed)
    N, C, F = rng.integers(1, 4, size=3)
    KH, KW = rng.integers(1, 4, size=2); P = int(rng.integers(0, 3))
    H = int(rng.integers(KH, 8)); W = int(rng.integers(KW, 8))
    x = rng.normal(size=(N, C, H, W)); w = rng.normal(size=(F, C, KH, KW)); b = rng.normal(size=F)
    out, cache = conv.conv2d_forward(x, w, b, padding=P)
    dout = rng.normal(size=out.shape)
    rdx, rdw, rdb = conv.conv2d_backward(dout, cache)
    what = f"x{x.shape}, w{w.shape}, padding={P}"
    with part(3, "dx"):
        dx, dw, db = run_student(conv2d_backward, dout, x, w, P, forbid=refs)
        check_close(dx, rdx, f"dx, {what}")
        check_gradient(lambda xx: np.sum(conv.conv2d_forward(xx, w, b, padding=P)[0] * dout), x, dx, f"dx, {what}")
    with part(1, "dw"):
        dw = run_student(conv2d_backward, dout, x, w, P, forbid=refs)[1]
        check_close(dw, rdw, f"dw, {what}")
        check_gradient(lambda ww: np.sum(conv.conv2d_forward(x, ww, b, padding=P)[0] * dout), w, dw, f"dw, {what}")
    with part(1, "db"):
        db = run_student(conv2d_backward, dout, x, w, P, forbid=refs)[2]
        check_close(db, rdb, f"db, {what}")
        check_gradient(lambda bb: np.sum(conv.conv2d_forward(x, w, bb, padding=P)[0] * dout), b, db, f"db, {what}")
# strides 2 and 3; r_h, r_w = (H + 2P - K) mod S rows and columns at the far edge were in no window
for seed, (N, C, F, H, W, KH, KW, P, S) in enumerate([
        (1, 1, 1, 7, 7, 3, 3, 0, 2),      # everything reached; a batch of one
        (2, 3, 4, 8, 7, 3, 2, 1, 2),      # r_h = r_w = 1; a kernel taller than wide
        (2, 2, 3, 9, 8, 3, 3, 0, 3),      # r_h = 0, r_w = 2
        (1, 2, 2, 10, 9, 2, 3, 1, 3),     # r_h = 1, r_w = 2; a batch of one
        (3, 1, 2, 6, 9, 1, 1, 0, 2),      # a 1x1 kernel: the windows do not even touch; r_h = 1
        (2, 2, 2, 5, 5, 3, 3, 2, 3)]):    # padding 2, r_h = r_w = 0
    rng = np.random.default_rng(320 + seed)
    x = rng.normal(size=(N, C, H, W)); w = rng.normal(size=(F, C, KH, KW)); b = rng.normal(size=F)
    out, cache = conv.conv2d_forward(x, w, b, stride=S, padding=P)
    dout = rng.normal(size=out.shape)
    rdx, rdw, rdb = conv.conv2d_backward(dout, cache)
    r_h, r_w = (H + 2 * P - KH) % S, (W + 2 * P - KW) % S
    what = (f"stride {S}, x{x.shape}, w{w.shape}, padding={P}" + (", a batch of one" if N == 1 else "")
            + (f", the last {r_h} row(s) and {r_w} column(s) of the padded input in no window" if r_h or r_w else ""))
    with part(2, "stride"):
        dx, dw, db = run_student(conv2d_backward, dout, x, w, padding=P, stride=S, forbid=refs)
        check_shape(dx, x.shape, f"dx, {what}")
        check_close(dx, rdx, f"dx, {what}")
        check_close(dw, rdw, f"dw, {what}")
        check_close(db, rdb, f"db, {what}")
        check_gradient(lambda xx: np.sum(conv.conv2d_forward(xx, w, b, stride=S, padding=P)[0] * dout), x, dx,
                       f"dx, {what}")
        check_gradient(lambda ww: np.sum(conv.conv2d_forward(x, ww, b, stride=S, padding=P)[0] * dout), w, dw,
                       f"dw, {what}")
### END HIDDEN TESTS

# %% [markdown]
# ### Your three backward passes in the explorer
#
# The same explorer, now also running your `max_pool2d_backward`, `avg_pool2d_backward` and
# `conv2d_backward` on the δ it shows: the read-out gives the largest difference from `dlcore`
# ("not implemented yet" until you have solved the exercise). Move the controls: a bug often
# shows only for one pattern, one pooling or one padding.

# %%
ch08.backprop_explorer(step=3, pattern="random", student_fns={
    "max_pool2d_backward": max_pool2d_backward, "avg_pool2d_backward": avg_pool2d_backward,
    "conv2d_backward": conv2d_backward})


# %% [markdown] nbgrader={"grade": false, "grade_id": "ch08-findbug-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Exercise 4 — find the wrong backward with a gradient check (3 points)
#
# Backward passes fail silently: a wrong one still returns an array of the right shape, and the
# network still "trains", only worse. The reliable test is a **gradient check**: for a random
# `g`, the loss `L(x) = Σ forward(x) ⊙ g` has gradient `backward(g, x)` if the backward is right,
# and central differences `(L(x + h·e_i) − L(x − h·e_i)) / 2h` estimate that gradient cell by cell.
#
# Write `find_wrong_backward(forward, candidates, x)`:
# * `forward(x) -> out` is a layer's forward pass (an array in, an array out);
# * `candidates` is a dict `name -> backward`, each `backward(dout, x) -> dx`; exactly one is wrong;
# * `x` is the point to check at.
#
# Return the **name** of the wrong candidate. Use a seeded random `g` and a numerical gradient
# (write it, or use `dlcore.gradcheck.numerical_gradient`), and compare by relative error. The
# test below hands you three candidates for the backward of a convolution's input — which one
# forgot to rotate the kernel? Hidden tests use other layers and other bugs.
#

# %% nbgrader={"grade": false, "grade_id": "ch08-findbug-impl", "locked": false, "schema_version": 3, "solution": true, "task": false}
def find_wrong_backward(forward, candidates, x):
    """Name of the one candidate backward whose dx disagrees with a numerical gradient.

    forward: callable x -> out (arrays). candidates: dict name -> backward(dout, x) -> dx.
    x: the input array to check at. Returns the wrong candidate's name (a key of candidates).
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(0)
    x = np.array(x, dtype=np.float64)
    g = rng.normal(size=np.shape(forward(x)))
    numeric = gradcheck.numerical_gradient(lambda xx: float(np.sum(forward(xx) * g)), x)
    errors = {}
    for name, backward in candidates.items():
        dx = np.asarray(backward(g, x), dtype=np.float64)
        if dx.shape != numeric.shape:
            errors[name] = np.inf
            continue
        errors[name] = np.max(np.abs(dx - numeric) / np.maximum(np.abs(dx) + np.abs(numeric), 1e-12))
    return max(errors, key=errors.get)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch08-findbug-test", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import numpy as np
from dlcore import conv, pooling
from dlcore.testing import run_student
rng = np.random.default_rng(11)
w = rng.normal(size=(2, 1, 3, 3)); b = np.zeros(2)
fwd = lambda xx: conv.conv2d_forward(xx, w, b)[0]
def right(dout, xx):
    return conv.conv2d_backward(dout, conv.conv2d_forward(xx, w, b)[1])[0]
def no_rotation(dout, xx):      # full convolution with w itself instead of rot180(w)
    dp = np.pad(dout, ((0, 0), (0, 0), (2, 2), (2, 2)))
    out = np.zeros(xx.shape)
    for r in range(xx.shape[2]):
        for s in range(xx.shape[3]):
            out[:, :, r, s] = np.einsum("nfuv,fcuv->nc", dp[:, :, r:r + 3, s:s + 3], w)
    return out
def right_by_scatter(dout, xx):  # each δ stamps the kernel onto the input
    out = np.zeros(xx.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            out[:, :, i:i + 3, j:j + 3] += np.einsum("nf,fcuv->ncuv", dout[:, :, i, j], w)
    return out
x = rng.normal(size=(1, 1, 5, 5))
got = run_student(find_wrong_backward, fwd, {"A": right, "B": no_rotation, "C": right_by_scatter}, x)
assert got == "B", f"find_wrong_backward: expected 'B' (the kernel is not rotated), got {got!r}"
### BEGIN HIDDEN TESTS
# the same candidates under other names and in another order
got = run_student(find_wrong_backward, fwd, {"p": right_by_scatter, "q": right, "r": no_rotation}, x)
assert got == "r", f"find_wrong_backward: expected 'r', got {got!r}"
# average pooling that forgets to divide by k²
xa = rng.normal(size=(1, 2, 4, 4))
fa = lambda xx: pooling.avg_pool2d_forward(xx, 2)[0]
ra = lambda d, xx: pooling.avg_pool2d_backward(d, pooling.avg_pool2d_forward(xx, 2)[1])
wa = lambda d, xx: np.kron(d, np.ones((1, 1, 2, 2)))
ua = lambda d, xx: np.kron(d, np.ones((1, 1, 2, 2))) / 4
got = run_student(find_wrong_backward, fa, {"ref": ra, "up": ua, "forgot_k2": wa}, xa)
assert got == "forgot_k2", f"find_wrong_backward on average pooling: expected 'forgot_k2', got {got!r}"
# max pooling that sends δ to the window's top-left cell instead of its maximum
xm = rng.normal(size=(2, 1, 4, 6))
fm = lambda xx: pooling.max_pool2d_forward(xx, 2)[0]
rm = lambda d, xx: pooling.max_pool2d_backward(d, pooling.max_pool2d_forward(xx, 2)[1])
def top_left(d, xx):
    out = np.zeros(xx.shape); out[:, :, ::2, ::2] = d
    return out
got = run_student(find_wrong_backward, fm, {"m1": top_left, "m2": rm}, xm)
assert got == "m1", f"find_wrong_backward on max pooling: expected 'm1', got {got!r}"
# ReLU whose backward forgets to multiply by dout: invisible with g = 1 (use a random g); two
# candidates only, so comparing the candidates with each other cannot tell which one is wrong
xr = rng.normal(size=(2, 3, 4, 4))
fr = lambda xx: np.maximum(xx, 0)
got = run_student(find_wrong_backward, fr, {"relu": lambda d, xx: d * (xx > 0),
                                            "no_dout": lambda d, xx: (xx > 0).astype(float)}, xr)
assert got == "no_dout", f"find_wrong_backward on ReLU: expected 'no_dout' (dout ignored), got {got!r}"
# a convolution with large weights and inputs: the right candidates differ from the numerical
# gradient by about 1e-4 in absolute terms, so only a relative error tells right from wrong
wl = 1e3 * rng.normal(size=(2, 1, 3, 3))
fl = lambda xx: conv.conv2d_forward(xx, wl, b)[0]
rl = lambda d, xx: conv.conv2d_backward(d, conv.conv2d_forward(xx, wl, b)[1])[0]
nl = lambda d, xx: conv.conv2d_backward(d, conv.conv2d_forward(xx, wl[:, :, ::-1, ::-1], b)[1])[0]  # no rotation
xl = 1e3 * rng.normal(size=(1, 1, 5, 5))
got = run_student(find_wrong_backward, fl, {"ref": rl, "unrotated": nl}, xl)
assert got == "unrotated", f"find_wrong_backward on a large-valued convolution: expected 'unrotated', got {got!r}"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch08-rot-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Written question 1 (2 points)
#
# In your own words: why does the backward pass of a convolution use the kernel **rotated by
# 180°**, and why is it a **full** convolution (output larger than δ)? Use the single-δ picture of
# section 3 (the "scatter" view) in your answer.
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch08-rot-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# In the forward pass output z[i, j] used the input patch starting at (i, j): input cell x[r, s] was
# multiplied by w[r − i, s − j]. Scatter view: a single δz[i, j] sends δz[i, j]·w back onto that patch —
# the kernel stamped upright, w[0, 0] on the patch's top-left cell (section 3's picture). Gather view:
# input cell (r, s) collects Σ δz[i, j]·w[r − i, s − j]; as i and j *increase* the kernel index
# *decreases*, so sliding a window over δz meets the kernel backwards in both directions — that is a
# correlation with rot180(w). It is a *full* convolution because every input cell must collect from
# every output that used it, including border cells that only a corner of the kernel touched: δz is
# padded by K − 1 zeros on each side so that the window also covers those partial overlaps, and the
# result has H_out + K − 1 = H rows, the input's size.
#
# **Rubric (2 points).**
# - 1 point — rot180: scattering δz[i, j]·w onto the patch, or gathering Σ δz[i, j]·w[r − i, s − j], meets the kernel index decreasing as i, j increase — a correlation with rot180(w). Half a point for the scatter picture without the index argument.
# - 1 point — full: every input cell must collect from every output that used it, including border cells touched only by a kernel corner, so δz is padded by K − 1 and the result has the input's size. Half a point for "padding" without saying why.

# %% [markdown] nbgrader={"grade": false, "grade_id": "ch08-pool-prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
#
# ## Written question 2 (2 points)
#
# On the real feature map of section 2, max pooling sent δ to a quarter of the cells and average
# pooling to all of them. What does this mean for which kernel weights get updated, and why is
# Σδ the same after either backward pass?
#

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch08-pool-answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
#
# The kernel gradient of the conv below is dW = corr(x, δz), a sum over the positions that carry δ.
# With max pooling only the switch positions (a quarter, and after ReLU fewer still) carry δ, so this
# step's update of the kernel is built only from the input patches where the kernel responded most
# strongly in each window; the other patches do not influence it. With average pooling every active
# position contributes, each with δ/4, so dW is a blend of all patches. Σδ is the same because each
# window's δp is split among the cells of its own window with weights that add up to 1 — a single 1
# at the switch for max pooling, k² times 1/k² for average pooling — and each cell of the input adds
# up what it receives from every window it belongs to. So Σ over the input of δx equals Σ over the
# windows of δp whether or not the windows overlap: with the 2×2, stride-2 windows of section 2 each
# cell gets from one window, with overlapping windows a cell adds the shares of several (that is
# why the backward pass must add, not overwrite), and the total is still conserved.
#
# **Rubric (2 points).**
# - 1 point — which weights get updated: max pooling builds dW only from the patches at the switch
#   positions (the strongest response of each window); average pooling from every position, each
#   with δ/k². Half a point for "max pooling updates fewer weights / sparser gradient" without
#   saying that dW is a sum over positions carrying δ.
# - 1 point — why Σδ is the same: each window splits its δ with weights summing to 1 (a single 1,
#   or k² × 1/k²) and the input adds what it receives. Half a point for the split without the adding.
#   An answer that says conservation holds *because* the windows do not overlap gets the half point
#   for the split but not the rest (it also holds with overlap); an answer that correctly notes it
#   holds with overlap too gets full marks without mentioning the window layout.
#

# %% [markdown]
# ## Self-checks
#
# Ungraded: choose an answer and the explanation appears at once (every option has one, so a
# wrong choice teaches something too). Nothing is recorded.

# %%
from dlcore.explorers.selfcheck import ask

ask("Max pooling's backward pass sends each window's δ to …", [
    ("the cell that held the maximum (the switch)", True, "Only that cell changed the output, so only it receives δ."),
    ("every cell of the window, δ/k² each", False, "That is average pooling's backward pass."),
    ("the window's top-left cell", False, "That is the planted bug of the find-the-wrong-backward exercise."),
])

# %%
ask("With overlapping pooling windows (k = 3, stride 2), is Σδ still the same after the pool's backward pass?", [
    ("yes", True, "Each window splits its δ with weights summing to 1 and the input adds what it receives, overlap or not."),
    ("no: overlapping cells count δ twice", False, "They receive several shares, but each share was split from one window's δ: the total is unchanged."),
    ("only for average pooling", False, "Max pooling's single 1 at the switch also sums to 1 per window."),
])

# %%
ask("Raise the explorer's step to 2 (through ReLU). At a cell where z ≤ 0, δz is …", [
    ("0", True, "ReLU′(z) = 0 there, so δz = δa·ReLU′(z) = 0 (the grey veil)."),
    ("δa", False, "Only where z > 0, where ReLU′ = 1."),
    ("−δa", False, "ReLU's derivative is 0 or 1, never negative."),
], predict="Predict first, then move the step slider.")

# %%
ask("The gradient of a convolution with respect to its input is …", [
    ("a full convolution of δz with the kernel rotated by 180°", True, "Section 3: gathering δ meets the kernel backwards, and every input cell must collect from every output that used it."),
    ("a valid convolution with the same kernel", False, "That would be smaller than the input and meet the kernel the wrong way round."),
    ("the correlation of x with δz", False, "That is the gradient with respect to the kernel, dW."),
])

# %% [markdown]
# ## Glossary / 术语表
#
# | English | 中文 | in this chapter |
# |---|---|---|
# | backpropagation | 反向传播 | the chain rule applied layer by layer, from the loss back to the input |
# | error term δ | 残差 | ∂L/∂(a layer's output or pre-activation), the quantity sent backwards |
# | convolution | 卷积 | here cross-correlation, as in PyTorch; its backward is a *full* convolution |
# | kernel | 卷积核 | the weights w (F, C, KH, KW) shared over all positions |
# | rotate 180° | 旋转180度 | w[::-1, ::-1]; the kernel met backwards when gathering δ |
# | full convolution | full 卷积（宽卷积） | δ padded by K−1 on each side, so the output has the input's size |
# | pooling | 池化 | max or average over windows; no parameters |
# | max pooling / switch | 最大池化 / 开关 | δ goes to the recorded arg-max of each window |
# | average pooling | 平均池化 | δ/k² to every cell of the window |
# | upsampling | 上采样 | restoring δ to the size before pooling |
# | feature map | 特征图 | one output channel of a conv layer |
# | channel | 通道 | the C (input) or F (output) axis of NCHW |
# | stride / padding | 步长 / 填充 | stride > 1 dilates δ before the full convolution; padding is cropped off δx |
# | dilated δ | 膨胀 / 空洞 | δ with S − 1 zeros between its entries: a stride-S conv's δ back on the stride-1 grid; the (H + 2P − K) mod S rows and columns no window reached get δ = 0 |
# | gradient check | 梯度检验 | comparing a backward pass with central differences |
