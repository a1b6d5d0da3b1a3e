"""dlcore.pooling: hand-worked cases, ties, PyTorch agreement, gradient checks, loops vs fast, errors."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dlcore.gradcheck import numerical_gradient

from dlcore.pooling import (
    avg_pool2d_backward,
    avg_pool2d_backward_loops,
    avg_pool2d_forward,
    avg_pool2d_forward_loops,
    max_pool2d_backward,
    max_pool2d_backward_loops,
    max_pool2d_forward,
    max_pool2d_forward_loops,
)

MAX = [(max_pool2d_forward, max_pool2d_backward), (max_pool2d_forward_loops, max_pool2d_backward_loops)]
AVG = [(avg_pool2d_forward, avg_pool2d_backward), (avg_pool2d_forward_loops, avg_pool2d_backward_loops)]


# ---------------------------------------------------------------- hand-worked cases

@pytest.mark.parametrize("fwd, bwd", MAX)
def test_max_hand_worked(fwd, bwd):
    x = np.array([[1.0, 2.0, 5.0, 0.0, 9.0],
                  [4.0, 3.0, 1.0, 6.0, 9.0],
                  [0.0, 0.0, 7.0, 1.0, 9.0]]).reshape(1, 1, 3, 5)
    out, cache = fwd(x, 2)  # stride None = 2; the last row and column are dropped (round down)
    np.testing.assert_array_equal(out[0, 0], [[4.0, 6.0]])
    np.testing.assert_array_equal(cache.switches[0, 0], [[5, 8]])  # flat (row * W + col)
    dx = bwd(np.array([[[[10.0, 20.0]]]]), cache)
    expected = np.zeros((3, 5))
    expected[1, 0], expected[1, 3] = 10.0, 20.0
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.parametrize("fwd, bwd", MAX)
def test_max_ties_go_to_first_in_row_major_order(fwd, bwd):
    x = np.array([[0.0, 3.0, 3.0],
                  [3.0, 3.0, 0.0],
                  [3.0, 0.0, 3.0]]).reshape(1, 1, 3, 3)
    out, cache = fwd(x, 2, stride=1)
    np.testing.assert_array_equal(out[0, 0], [[3.0, 3.0], [3.0, 3.0]])
    # windows at (0,0): first 3 at (0,1); (0,1): (0,1); (1,0): (1,0); (1,1): (1,1)
    np.testing.assert_array_equal(cache.switches[0, 0], [[1, 1], [3, 4]])
    dx = bwd(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 2, 0], [1, 1, 0], [0, 0, 0]])
    # all equal: everything goes to each window's top-left pixel
    out, cache = fwd(np.ones((1, 1, 4, 4)), 2)
    dx = bwd(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])


@pytest.mark.parametrize("fwd, bwd", AVG)
def test_avg_hand_worked(fwd, bwd):
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = fwd(x, 2)
    np.testing.assert_allclose(out[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    out, cache = fwd(x, 3, stride=1)
    np.testing.assert_allclose(out[0, 0], [[5.0, 6.0], [9.0, 10.0]])
    dx = bwd(np.full((1, 1, 2, 2), 9.0), cache)
    # overlapping 3x3 windows: each pixel gets 1 per window covering it
    np.testing.assert_allclose(dx[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


# ---------------------------------------------------------------- PyTorch

CASES = [((2, 3, 7, 6), 2, None), ((2, 3, 9, 8), 3, 2), ((1, 2, 7, 7), (3, 2), (1, 2)),
         ((2, 2, 5, 5), 5, None), ((2, 1, 6, 6), 2, 1), ((1, 2, 11, 10), (2, 3), (3, 1)),
         ((3, 4, 32, 32), 3, 2)]


@pytest.mark.parametrize("xs, k, s", CASES)
def test_max_matches_torch(xs, k, s):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for x in (rng.standard_normal(xs), rng.integers(0, 3, xs).astype(float)):  # the second has many ties
        xt = torch.tensor(x, requires_grad=True)
        ot, idx = torch.nn.functional.max_pool2d(xt, k, s, return_indices=True)
        dout = rng.standard_normal(tuple(ot.shape))
        ot.backward(torch.tensor(dout))
        for fwd, bwd in MAX:
            out, cache = fwd(x, k, s)
            np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-6)
            np.testing.assert_array_equal(cache.switches, idx.numpy())
            np.testing.assert_allclose(bwd(dout, cache), xt.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("xs, k, s", CASES)
def test_avg_matches_torch(xs, k, s):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(xs)
    xt = torch.tensor(x, requires_grad=True)
    ot = torch.nn.functional.avg_pool2d(xt, k, s)
    dout = rng.standard_normal(tuple(ot.shape))
    ot.backward(torch.tensor(dout))
    for fwd, bwd in AVG:
        out, cache = fwd(x, k, s)
        np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(bwd(dout, cache), xt.grad.numpy(), rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------- gradients, loops vs fast

params = st.tuples(st.integers(1, 2), st.integers(1, 3),           # N, C
                   st.integers(1, 3), st.integers(1, 3),           # KH, KW
                   st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
                   st.integers(0, 4), st.integers(0, 4), st.integers(0, 2**31 - 1))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(params)
def test_gradients_numerically_and_loops_agree(p):
    N, C, KH, KW, stride, eh, ew, seed = p
    rng = np.random.default_rng(seed)
    # distinct values spaced well apart, so a 1e-5 nudge never changes which one is the max
    x = rng.permutation(N * C * (KH + eh) * (KW + ew)).reshape(N, C, KH + eh, KW + ew) * 0.1
    for (fwd, bwd), (fwd_l, bwd_l) in [MAX, AVG]:
        out, cache = fwd(x, (KH, KW), stride)
        dout = rng.standard_normal(out.shape)
        dx = bwd(dout, cache)
        g = numerical_gradient(lambda v: float(np.sum(fwd(v, (KH, KW), stride)[0] * dout)), x)
        # central differences in float64 on inputs up to ~10 carry ~1e-8 of rounding error
        np.testing.assert_allclose(dx, g, rtol=1e-5, atol=1e-6)
        out_l, cache_l = fwd_l(x, (KH, KW), stride)
        np.testing.assert_allclose(out_l, out, rtol=1e-12)
        np.testing.assert_allclose(bwd_l(dout, cache_l), dx, rtol=1e-12, atol=1e-14)
        if cache.switches is not None:
            np.testing.assert_array_equal(cache_l.switches, cache.switches)


def test_chunked_fast_path_on_many_planes():
    """Enough planes to need several cache-sized chunks; compared with the loop version."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 4, (9, 20, 40, 40)).astype(np.float64)  # 180 planes, ties everywhere
    out, cache = max_pool2d_forward(x, 3, 2)
    sub = x[:, :1]  # loops on a slice only, to keep the test quick
    out_l, cache_l = max_pool2d_forward_loops(sub, 3, 2)
    np.testing.assert_array_equal(out[:, :1], out_l)
    np.testing.assert_array_equal(cache.switches[:, :1], cache_l.switches)
    a, _ = avg_pool2d_forward(x, 3, 2)
    np.testing.assert_allclose(a[:, :1], avg_pool2d_forward_loops(sub, 3, 2)[0], rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = max_pool2d_backward(dout, cache)
    np.testing.assert_allclose(dx.sum(axis=(2, 3)), dout.sum(axis=(2, 3)), rtol=1e-10)


# ---------------------------------------------------------------- dtypes

@pytest.mark.parametrize("fwd, bwd", MAX + AVG)
def test_float32_in_float32_out(fwd, bwd):
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 7)).astype(np.float32)
    out, cache = fwd(x, 3, 2)
    assert out.dtype == np.float32
    dx = bwd(np.ones_like(out), cache)
    assert dx.dtype == np.float32
    out64, _ = fwd(x.astype(np.float64), 3, 2)
    np.testing.assert_allclose(out, out64, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("fwd", [max_pool2d_forward, max_pool2d_forward_loops,
                                 avg_pool2d_forward, avg_pool2d_forward_loops])
def test_errors(fwd):
    name = fwd.__name__
    x = np.zeros((1, 2, 4, 4))
    with pytest.raises(ValueError, match=rf"{name}: x must be 4-D"):
        fwd(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match=rf"{name}: kernel_size 5x5 is larger than the input's spatial size 4x4"):
        fwd(x, 5)
    with pytest.raises(ValueError, match=rf"{name}: kernel_size must be > 0"):
        fwd(x, 0)
    with pytest.raises(ValueError, match=rf"{name}: stride must be > 0"):
        fwd(x, 2, stride=(1, 0))
    with pytest.raises(ValueError, match=rf"{name}: kernel_size must be an int or a pair"):
        fwd(x, (2, 2, 2))


@pytest.mark.parametrize("fwd, bwd", MAX + AVG)
def test_backward_checks_dout_shape(fwd, bwd):
    _, cache = fwd(np.zeros((1, 2, 4, 4)), 2)
    with pytest.raises(ValueError, match=rf"{bwd.__name__}: dout must have shape \(1, 2, 2, 2\)"):
        bwd(np.zeros((1, 2, 3, 3)), cache)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_avg_pool_fast_matches_loops_on_every_small_geometry(dtype):
    # The fast backward writes each phase of dx once (_spread): check every split of the taps
    # into phases, including strides larger than the kernel (phases that get no tap).
    rng = np.random.default_rng(7)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for KH, KW, SH, SW, eh, ew in itertools.product([1, 2, 3, 4], [1, 3], [1, 2, 3, 5], [1, 2, 4],
                                                   [0, 1, 4], [0, 3]):
        x = rng.standard_normal((2, 3, KH + eh, KW + ew)).astype(dtype)
        out, cache = avg_pool2d_forward(x, (KH, KW), (SH, SW))
        out_l, cache_l = avg_pool2d_forward_loops(x, (KH, KW), (SH, SW))
        assert out.dtype == dtype
        np.testing.assert_allclose(out, out_l, rtol=tol, atol=tol)
        dout = rng.standard_normal(out.shape).astype(dtype)
        dx = avg_pool2d_backward(dout, cache)
        assert dx.dtype == dtype and dx.shape == x.shape
        np.testing.assert_allclose(dx, avg_pool2d_backward_loops(dout, cache_l), rtol=tol, atol=tol)
