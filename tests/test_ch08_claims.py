"""Chapter 8's claims as numbers (C16, C17): the error term δ through pooling and convolution.

C16 max-pool backward puts each δ at the arg-max and zeros elsewhere; average-pool backward
spreads δ/k²; both preserve Σδ. C17 conv's δ equals the full convolution of δ with the rot180
kernel, dW equals the correlation of input and δ, db the sum of δ — checked against dlcore,
PyTorch and a numerical gradient; with stride S the same holds for δ dilated by S − 1 zeros, the
rows the forward never reached getting 0; a conv preceded by a pool routes δ through the pool first.
"""
import numpy as np
import pytest

from dlcore import conv, gradcheck, nn, pooling
from dlcore.activations import relu_grad
from dlcore.chapters.ch08 import dilate


def _windows(x, k):
    N, C, H, W = x.shape
    return x[:, :, :H // k * k, :W // k * k].reshape(N, C, H // k, k, W // k, k)


def test_c16_worked_example_4x4():
    a = np.array([[1., 3., 2., 0.], [4., 2., 1., 5.], [0., 1., 6., 2.], [2., 7., 3., 1.]])[None, None]
    dp = np.array([[0.1, -0.2], [0.3, 0.4]])[None, None]
    _, cm = pooling.max_pool2d_forward(a, 2)
    _, ca = pooling.avg_pool2d_forward(a, 2)
    np.testing.assert_allclose(pooling.max_pool2d_backward(dp, cm)[0, 0],
                               [[0, 0, 0, 0], [0.1, 0, 0, -0.2], [0, 0, 0.4, 0], [0, 0.3, 0, 0]])
    np.testing.assert_allclose(pooling.avg_pool2d_backward(dp, ca)[0, 0],
                               np.kron(dp[0, 0], np.ones((2, 2))) / 4)


@pytest.mark.parametrize("k", [2, 3])
def test_c16_max_pool_backward_to_the_argmax_only(k):
    rng = np.random.default_rng(k)
    x = rng.normal(size=(2, 3, 4 * k, 3 * k))
    out, cache = pooling.max_pool2d_forward(x, k)
    dout = rng.normal(size=out.shape)
    dx = pooling.max_pool2d_backward(dout, cache)
    win_x, win_d = _windows(x, k), _windows(dx, k)
    N, C, Hp, _, Wp, _ = win_x.shape
    for n in range(N):
        for c in range(C):
            for i in range(Hp):
                for j in range(Wp):
                    wx, wd = win_x[n, c, i, :, j, :], win_d[n, c, i, :, j, :]
                    r, q = np.unravel_index(np.argmax(wx), wx.shape)
                    assert wd[r, q] == pytest.approx(dout[n, c, i, j], abs=0)
                    assert np.count_nonzero(wd) == 1
    assert np.count_nonzero(dx) == dout.size  # 1 cell in k² receives δ
    assert dx.sum() == pytest.approx(dout.sum(), rel=1e-12)


def test_c16_max_pool_tie_goes_to_first_maximum():
    x = np.zeros((1, 1, 2, 2))
    _, cache = pooling.max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(pooling.max_pool2d_backward(np.ones((1, 1, 1, 1)), cache)[0, 0], [[1, 0], [0, 0]])


@pytest.mark.parametrize("k", [2, 3])
def test_c16_avg_pool_backward_spreads_delta_over_k2(k):
    rng = np.random.default_rng(10 + k)
    x = rng.normal(size=(2, 2, 3 * k, 2 * k))
    out, cache = pooling.avg_pool2d_forward(x, k)
    dout = rng.normal(size=out.shape)
    dx = pooling.avg_pool2d_backward(dout, cache)
    np.testing.assert_allclose(dx, np.kron(dout, np.ones((1, 1, k, k))) / k ** 2, atol=1e-15)
    assert dx.sum() == pytest.approx(dout.sum(), rel=1e-12)


def test_c16_both_agree_with_numerical_gradient():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, 2, 6, 6))
    for fwd, bwd in ((pooling.max_pool2d_forward, pooling.max_pool2d_backward),
                     (pooling.avg_pool2d_forward, pooling.avg_pool2d_backward)):
        out, cache = fwd(x, 2)
        g = rng.normal(size=out.shape)
        num = gradcheck.numerical_gradient(lambda xx: np.sum(fwd(xx, 2)[0] * g), x)
        assert gradcheck.max_relative_error(bwd(g, cache), num) < 1e-7


def _full_conv_rot180_loops(d, k):
    """Independent of dlcore: δx[r, s] = Σ_ij δ[i, j] w[r−i, s−j] (the scatter form)."""
    KH, KW = k.shape
    out = np.zeros((d.shape[0] + KH - 1, d.shape[1] + KW - 1))
    for i in range(d.shape[0]):
        for j in range(d.shape[1]):
            out[i:i + KH, j:j + KW] += d[i, j] * k
    return out


def test_c17_single_delta_stamps_the_kernel():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    _, cache = conv.conv2d_forward(x, w, np.zeros(1))
    dz = np.zeros((1, 1, 4, 4))
    dz[0, 0, 1, 2] = 1.0
    dx, dw, db = conv.conv2d_backward(dz, cache)
    expected = np.zeros((6, 6))
    expected[1:4, 2:5] = w[0, 0]
    np.testing.assert_allclose(dx[0, 0], expected)
    np.testing.assert_allclose(dw[0, 0], x[0, 0, 1:4, 2:5])
    np.testing.assert_allclose(db, [1.0])
    np.testing.assert_allclose(conv.rot180(w)[0, 0], [[9, 8, 7], [6, 5, 4], [3, 2, 1]])


@pytest.mark.parametrize("P", [0, 1, 2])
def test_c17_conv_delta_is_full_convolution_with_rot180(P):
    rng = np.random.default_rng(20 + P)
    x = rng.normal(size=(2, 3, 7, 6))
    w = rng.normal(size=(4, 3, 3, 2))
    b = rng.normal(size=4)
    z, cache = conv.conv2d_forward(x, w, b, padding=P)
    dz = rng.normal(size=z.shape)
    dx, dw, db = conv.conv2d_backward(dz, cache)
    full = np.zeros((2, 3, 7 + 2 * P, 6 + 2 * P))
    full_ind = np.zeros_like(full)
    for n in range(2):
        for c in range(3):
            for f in range(4):
                full[n, c] += conv.full_convolve2d(dz[n, f], conv.rot180(w[f, c]))
                full_ind[n, c] += _full_conv_rot180_loops(dz[n, f], w[f, c])
    crop = (slice(None), slice(None), slice(P, P + 7), slice(P, P + 6))
    np.testing.assert_allclose(dx, full[crop], atol=1e-12)
    np.testing.assert_allclose(dx, full_ind[crop], atol=1e-12)
    # dW = correlation of the (padded) input with δ; db = Σ δ
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    corr, _ = conv.conv2d_forward(xp.transpose(1, 0, 2, 3), dz.transpose(1, 0, 2, 3), None)
    np.testing.assert_allclose(dw, corr.transpose(1, 0, 2, 3), atol=1e-12)
    np.testing.assert_allclose(db, dz.sum(axis=(0, 2, 3)), atol=1e-12)
    # and all three against a numerical gradient
    L = lambda xx, ww, bb: np.sum(conv.conv2d_forward(xx, ww, bb, padding=P)[0] * dz)  # noqa: E731
    assert gradcheck.max_relative_error(dx, gradcheck.numerical_gradient(lambda v: L(v, w, b), x)) < 1e-7
    assert gradcheck.max_relative_error(dw, gradcheck.numerical_gradient(lambda v: L(x, v, b), w)) < 1e-7
    assert gradcheck.max_relative_error(db, gradcheck.numerical_gradient(lambda v: L(x, w, v), b)) < 1e-7


def test_c17_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(30)
    x = rng.normal(size=(2, 3, 8, 8))
    w = rng.normal(size=(4, 3, 3, 3))
    z, cache = conv.conv2d_forward(x, w, None, padding=1)
    dz = rng.normal(size=z.shape)
    dx, dw, _ = conv.conv2d_backward(dz, cache)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, padding=1).backward(torch.tensor(dz))
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-6, atol=1e-10)


def test_c17_times_f_prime_of_the_layer_below():
    """δz_below = full_conv(δz, rot180 w2) ⊙ relu'(z_below) for x → conv1 → ReLU → conv2."""
    rng = np.random.default_rng(40)
    x = rng.normal(size=(1, 1, 8, 8))
    w1, w2 = rng.normal(size=(2, 1, 3, 3)), rng.normal(size=(1, 2, 3, 3))
    z1, c1 = conv.conv2d_forward(x, w1, None)
    a1 = np.maximum(z1, 0)
    z2, c2 = conv.conv2d_forward(a1, w2, None)
    g = rng.normal(size=z2.shape)
    da1 = np.stack([conv.full_convolve2d(g[0, 0], conv.rot180(w2[0, c])) for c in range(2)])[None]
    dz1 = da1 * relu_grad(z1)

    def L_of_z1(zz):
        return np.sum(conv.conv2d_forward(np.maximum(zz, 0), w2, None)[0] * g)

    num = gradcheck.numerical_gradient(L_of_z1, z1)
    assert gradcheck.max_relative_error(dz1, num) < 1e-6
    assert np.count_nonzero(dz1) < dz1.size  # ReLU really cut some paths


def test_c17_stride_two_is_full_convolution_of_dilated_delta():
    rng = np.random.default_rng(50)
    x = rng.normal(size=(1, 1, 7, 7))
    w = rng.normal(size=(1, 1, 3, 3))
    z, cache = conv.conv2d_forward(x, w, None, stride=2)
    dz = rng.normal(size=z.shape)
    dx = conv.conv2d_backward(dz, cache)[0]
    np.testing.assert_allclose(dx[0, 0], conv.full_convolve2d(dilate(dz[0, 0], 2), conv.rot180(w[0, 0])), atol=1e-12)


def test_c17_stride_worked_example_of_section_3():
    """Section 3's stride-2 case: 2×2 δz, 3×3 dilated δ, 5×5 full convolution, 1 unreached row and
    column of the 6×6 input (δx 0 there), δx[2, 2] = 9·1 + 7·(−2) + 3·0.5 + 1·2 = −1.5, db = 1.5."""
    from dlcore.chapters.ch08 import stride_example

    e = stride_example()
    assert e["z"].shape == (1, 1, 2, 2) and e["dz"].shape == (1, 1, 2, 2)
    assert e["dilated"].shape == (3, 3) and e["core"].shape == (5, 5) and e["unreached"] == 1
    np.testing.assert_array_equal(e["dilated"], [[1, 0, -2], [0, 0, 0], [0.5, 0, 2]])   # S − 1 = 1 zero between
    np.testing.assert_array_equal(e["dx"][0, 0, 5, :], 0)
    np.testing.assert_array_equal(e["dx"][0, 0, :, 5], 0)
    assert np.abs(e["dx"][0, 0] - e["dx_formula"]).max() < 1e-14
    assert np.abs(e["dw"][0, 0] - e["dw_corr"]).max() < 1e-14
    assert e["db"][0] == pytest.approx(1 - 2 + 0.5 + 2) == pytest.approx(1.5)
    w = e["w"][0, 0]
    assert (w[2, 2], w[2, 0], w[0, 2], w[0, 0]) == (9, 7, 3, 1)   # the weights that meet cell (2, 2)
    assert e["dx"][0, 0, 2, 2] == pytest.approx(9 * 1 + 7 * (-2) + 3 * 0.5 + 1 * 2) == pytest.approx(-1.5)
    assert e["dx_error"] < 1e-9 and e["dw_error"] < 1e-9
    # the notebook's x is section 3's x1 (the first draw of default_rng(1)), the same as the exercise's
    np.testing.assert_array_equal(e["x"], np.round(np.random.default_rng(1).normal(size=(1, 1, 6, 6)), 1))


@pytest.mark.parametrize("H, W, KH, KW, P, S", [(6, 6, 3, 3, 0, 2), (8, 7, 3, 2, 1, 2), (9, 8, 3, 3, 0, 3),
                                               (10, 9, 2, 3, 1, 3), (6, 9, 1, 1, 0, 2), (5, 5, 3, 3, 2, 3)])
def test_c17_stride_rule_dilate_full_conv_and_the_unreached_edge(H, W, KH, KW, P, S):
    """For any stride: H + 2P = (H_out − 1)·S + K + (H + 2P − K) mod S; δx_pad is the full convolution of
    the dilated δ with rot180(w) followed by (H + 2P − K) mod S zero rows (columns); dW is the
    correlation of x_pad with the dilated δ; db the sum of δ."""
    from dlcore.chapters.ch08 import unreached

    rng = np.random.default_rng(H * 100 + W * 10 + S)
    x = rng.normal(size=(2, 2, H, W))
    w = rng.normal(size=(3, 2, KH, KW))
    z, cache = conv.conv2d_forward(x, w, np.zeros(3), stride=S, padding=P)
    dz = rng.normal(size=z.shape)
    dx, dw, db = conv.conv2d_backward(dz, cache)
    Ho, Wo = z.shape[2:]
    rh, rw = unreached(H, KH, S, P), unreached(W, KW, S, P)
    assert H + 2 * P == (Ho - 1) * S + KH + rh and W + 2 * P == (Wo - 1) * S + KW + rw
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    dxp = np.zeros(xp.shape)
    dwc = np.zeros(w.shape)
    for n in range(2):
        for f in range(3):
            d = dilate(dz[n, f], S)
            assert d.shape == ((Ho - 1) * S + 1, (Wo - 1) * S + 1)
            for c in range(2):
                dxp[n, c] += np.pad(conv.full_convolve2d(d, conv.rot180(w[f, c])), ((0, rh), (0, rw)))
                dwc[f, c] += [[np.sum(xp[n, c, u:u + d.shape[0], v:v + d.shape[1]] * d) for v in range(KW)]
                              for u in range(KH)]
    np.testing.assert_allclose(dx, dxp[:, :, P:P + H, P:P + W], atol=1e-12)
    np.testing.assert_allclose(dw, dwc, atol=1e-12)
    np.testing.assert_allclose(db, dz.sum(axis=(0, 2, 3)), atol=1e-12)
    if rh > P:   # unreached rows of the real input (not only padding): their δ is exactly 0
        assert np.all(dx[:, :, H - (rh - P):, :] == 0)
    L = lambda xx: np.sum(conv.conv2d_forward(xx, w, np.zeros(3), stride=S, padding=P)[0] * dz)  # noqa: E731
    assert gradcheck.max_relative_error(dx, gradcheck.numerical_gradient(L, x)) < 1e-7


def test_conv_preceded_by_pool_routes_delta_through_pool_first():
    rng = np.random.default_rng(60)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(2, 3, 3, rng=rng))
    x = rng.normal(size=(2, 1, 8, 8))
    g = rng.normal(size=net.forward(x).shape)
    dx = net.backward(g)
    num = gradcheck.numerical_gradient(lambda xx: np.sum(net.forward(xx) * g), x)
    assert gradcheck.max_relative_error(dx, num) < 1e-6
    # by hand: conv2 rule, then through the pool (switches), then ReLU', then conv1
    net.forward(x)
    d_pool = net[3].backward(g)
    d_relu = net[2].backward(d_pool)
    assert np.count_nonzero(d_relu) <= d_pool.size  # at most one cell per window
    d_z1 = d_relu * relu_grad(net[0].forward(x))
    np.testing.assert_allclose(net[0].backward(d_z1), dx, atol=1e-12)


def test_real_feature_map_quarter_of_cells_ties_die_at_relu():
    """Section 2 on the photo: max pooling feeds 1/4 of the cells; all-zero windows (ties) pass δ to
    a cell with z <= 0, so only about 19 % of the map carries δ past the ReLU; Σδ is kept."""
    from dlcore.chapters.ch08 import kernel_bank, load_input

    x = load_input(64)
    w, _ = kernel_bank("edge", 1)
    z, _ = conv.conv2d_forward(x, w, np.zeros(1))
    fmap = np.maximum(z, 0)
    p, c_max = pooling.max_pool2d_forward(fmap, 2)
    _, c_avg = pooling.avg_pool2d_forward(fmap, 2)
    delta = np.random.default_rng(0).normal(size=(1, 1, 31, 31))
    d_max = pooling.max_pool2d_backward(delta, c_max)
    d_avg = pooling.avg_pool2d_backward(delta, c_avg)
    assert np.mean(d_max != 0) == 0.25 and np.mean(d_avg != 0) == 1.0
    assert d_max.sum() == pytest.approx(delta.sum()) and d_avg.sum() == pytest.approx(delta.sum())
    ties = p == 0
    assert np.mean(ties) == pytest.approx(0.233, abs=0.005)
    # every tie's δ lands on a cell where z <= 0, so ReLU's derivative kills it
    first_cells = d_max[0, 0, ::2, ::2][ties[0, 0]] != 0
    assert np.all(z[0, 0, :62:2, :62:2][ties[0, 0]] <= 0) and np.all(first_cells)
    survive = (d_max != 0) & (z > 0)
    assert np.mean(survive) == pytest.approx(0.192, abs=0.005)
    assert np.mean(survive) == pytest.approx(0.25 - np.mean(ties) / 4)


@pytest.mark.parametrize("k,stride", [(2, 2), (3, 2), (3, 1), (2, 1)])
def test_sum_of_delta_is_conserved_by_pooling_backward_with_or_without_overlap(k, stride):
    """Written question 2's model answer: Σδ is conserved because each window's δ is split with
    weights summing to 1 and the input adds what it receives — overlapping windows included."""
    from dlcore import pooling

    rng = np.random.default_rng(k * 10 + stride)
    x = rng.normal(size=(2, 3, 9, 9))
    out, cache = pooling.max_pool2d_forward(x, k, stride)
    dout = rng.normal(size=out.shape)
    assert pooling.max_pool2d_backward(dout, cache).sum() == pytest.approx(dout.sum(), rel=1e-12)
    out, cache = pooling.avg_pool2d_forward(x, k, stride)
    assert pooling.avg_pool2d_backward(dout, cache).sum() == pytest.approx(dout.sum(), rel=1e-12)


def test_written_question_2_model_answer_does_not_credit_non_overlap():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "chapters" / "ch08_cnn_backprop.py").read_text()
    answer = text.split('"grade_id": "ch08-pool-answer"')[1].split("# %%")[0]
    assert "whether or not the windows overlap" in answer
    assert "do not overlap, so nothing is counted twice" not in answer
    assert "Rubric (2 points)" in answer and "Half a point" in answer
