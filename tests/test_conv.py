"""dlcore.conv: hand-worked cases, PyTorch agreement, gradient checks, loops vs fast, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dlcore.conv import (
    conv2d_backward,
    conv2d_backward_loops,
    conv2d_forward,
    conv2d_forward_loops,
    conv_output_size,
    full_convolve2d,
    rot180,
)
from dlcore.gradcheck import numerical_gradient


def rel_err(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


# ---------------------------------------------------------------- hand-worked cases

def test_hand_worked_forward():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[i, j] - x[i+1, j+1] = -5 everywhere
    out, _ = conv2d_forward(x, w, np.array([2.0]))
    np.testing.assert_allclose(out, np.full((1, 1, 3, 3), -3.0))
    out, _ = conv2d_forward(x, w, None, stride=2)
    np.testing.assert_allclose(out, np.full((1, 1, 2, 2), -5.0))
    # padding 1: the top-left output sees only x[0, 0] under the kernel's -1
    out, _ = conv2d_forward(x, w, None, padding=1)
    assert out.shape == (1, 1, 5, 5)
    assert out[0, 0, 0, 0] == pytest.approx(-0.0)
    assert out[0, 0, 0, 1] == pytest.approx(-1.0)
    assert out[0, 0, 4, 4] == pytest.approx(15.0)


def test_hand_worked_backward():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2))
    out, cache = conv2d_forward(x, w, np.zeros(1))
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    # each input pixel is counted by as many windows as cover it
    np.testing.assert_allclose(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    # dw[a, e] = sum of the 2x2 block of x starting at (a, e)
    np.testing.assert_allclose(dw[0, 0], [[0 + 1 + 3 + 4, 1 + 2 + 4 + 5], [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]])
    np.testing.assert_allclose(db, [4.0])


def test_helpers():
    assert conv_output_size(32, 3, 1, 1) == 32
    assert conv_output_size(32, 5, 2, 0) == 14
    assert conv_output_size(7, 3, 2, 0) == 3
    w = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(rot180(w), [[5, 4, 3], [2, 1, 0]])
    # full convolution of a single 1 reproduces the kernel; of a 2x2 block of ones, box sums
    np.testing.assert_allclose(full_convolve2d(np.ones((1, 1)), w), w[::-1, ::-1])
    np.testing.assert_allclose(full_convolve2d(np.ones((2, 2)), np.ones((2, 2))), [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    with pytest.raises(ValueError, match="full_convolve2d"):
        full_convolve2d(np.ones((1, 2, 2)), np.ones((2, 2)))


def test_dx_is_full_convolution_with_rotated_kernel():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1, 6, 5))
    w = rng.standard_normal((1, 1, 3, 2))
    out, cache = conv2d_forward(x, w, None)
    delta = rng.standard_normal(out.shape)
    dx, _, _ = conv2d_backward(delta, cache)
    np.testing.assert_allclose(dx[0, 0], full_convolve2d(delta[0, 0], rot180(w[0, 0])), rtol=1e-12)


# ---------------------------------------------------------------- PyTorch

CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 2), (2, 1), (1, 0)),
    ((3, 2, 8, 9), (2, 2, 3, 3), 1, 2),
    ((2, 2, 9, 9), (3, 2, 4, 2), (3, 2), (0, 1)),
    ((1, 1, 5, 5), (1, 1, 5, 5), 1, 0),
    ((2, 3, 6, 7), (2, 3, 1, 1), 2, 0),
    ((2, 4, 10, 10), (5, 4, 3, 3), 3, 1),
]


@pytest.mark.parametrize("xs, ws, stride, padding", CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_matches_torch(xs, ws, stride, padding, bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[0]) if bias else None
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if bias else None
    ot = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
    dout = rng.standard_normal(tuple(ot.shape))
    ot.backward(torch.tensor(dout))
    for fwd, bwd in [(conv2d_forward, conv2d_backward), (conv2d_forward_loops, conv2d_backward_loops)]:
        out, cache = fwd(x, w, b, stride=stride, padding=padding)
        np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-6, atol=1e-12)
        dx, dw, db = bwd(dout, cache)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-6, atol=1e-12)
        if bias:
            np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-6, atol=1e-12)
        else:
            assert db is None


# ---------------------------------------------------------------- gradients, loops vs fast

shapes = st.tuples(
    st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),  # N, C, F
    st.integers(1, 3), st.integers(1, 3),                      # KH, KW
    st.integers(1, 3), st.integers(1, 3),                      # SH, SW
    st.integers(0, 2), st.integers(0, 2),                      # PH, PW
    st.integers(0, 4), st.integers(0, 4),                      # extra H, W beyond the kernel
    st.integers(0, 2**31 - 1),
)


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_gradients_numerically(p):
    N, C, F, KH, KW, SH, SW, PH, PW, eh, ew, seed = p
    rng = np.random.default_rng(seed)
    H, W = max(1, KH - 2 * PH + eh), max(1, KW - 2 * PW + ew)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, KH, KW))
    b = rng.standard_normal(F)
    out, cache = conv2d_forward(x, w, b, stride=(SH, SW), padding=(PH, PW))
    assert out.shape == (N, F, conv_output_size(H, KH, SH, PH), conv_output_size(W, KW, SW, PW))
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)

    def loss():
        return float(np.sum(conv2d_forward(x, w, b, stride=(SH, SW), padding=(PH, PW))[0] * dout))

    assert rel_err(dx, numerical_gradient(lambda _: loss(), x)) < 1e-6
    assert rel_err(dw, numerical_gradient(lambda _: loss(), w)) < 1e-6
    assert rel_err(db, numerical_gradient(lambda _: loss(), b)) < 1e-6
    # the loop version agrees with the fast one, forward and backward
    out_l, cache_l = conv2d_forward_loops(x, w, b, stride=(SH, SW), padding=(PH, PW))
    np.testing.assert_allclose(out_l, out, rtol=1e-10, atol=1e-12)
    for g_l, g in zip(conv2d_backward_loops(dout, cache_l), (dx, dw, db)):
        np.testing.assert_allclose(g_l, g, rtol=1e-10, atol=1e-12)


def test_fast_and_loops_agree_on_a_realistic_shape():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 12, 12))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    out, cache = conv2d_forward(x, w, b, padding=1)
    out_l, cache_l = conv2d_forward_loops(x, w, b, padding=1)
    np.testing.assert_allclose(out, out_l, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for a, c in zip(conv2d_backward(dout, cache), conv2d_backward_loops(dout, cache_l)):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
    # caches are interchangeable between the two versions
    for a, c in zip(conv2d_backward(dout, cache_l), conv2d_backward_loops(dout, cache)):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_large_input_uses_chunks_and_stays_exact():
    """Inputs whose im2col matrix is too big to keep are rebuilt chunk by chunk in the backward."""
    import dlcore._fast_conv as fast

    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 2, 9, 8))
    w = rng.standard_normal((3, 2, 3, 3))
    keep, chunk = fast._KEEP_BYTES, fast._CHUNK_BYTES
    try:
        fast._KEEP_BYTES, fast._CHUNK_BYTES = 0, 1  # one image per chunk, nothing kept
        out, cache = conv2d_forward(x, w, None, stride=(1, 2), padding=1)
        assert cache.fast.cols is None and cache.fast.x_phases is not None
        grads = conv2d_backward(np.ones_like(out), cache)
    finally:
        fast._KEEP_BYTES, fast._CHUNK_BYTES = keep, chunk
    out2, cache2 = conv2d_forward(x, w, None, stride=(1, 2), padding=1)
    assert cache2.fast.cols is not None
    np.testing.assert_allclose(out, out2, rtol=1e-12)
    for a, c in zip(grads[:2], conv2d_backward(np.ones_like(out2), cache2)[:2]):
        np.testing.assert_allclose(a, c, rtol=1e-12)


# ---------------------------------------------------------------- dtypes

def test_float32_in_float32_out():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    out, cache = conv2d_forward(x, w, b, stride=2, padding=1)
    assert out.dtype == np.float32
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == db.dtype == np.float32
    out64, cache64 = conv2d_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 2, 1)
    np.testing.assert_allclose(out, out64, rtol=1e-4, atol=1e-5)
    out_l, _ = conv2d_forward_loops(x, w, b, stride=2, padding=1)
    assert out_l.dtype == np.float32


def test_integer_input_becomes_float64():
    out, _ = conv2d_forward(np.ones((1, 1, 3, 3), dtype=int), np.ones((1, 1, 2, 2), dtype=int), None)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, 4.0)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("fwd", [conv2d_forward, conv2d_forward_loops])
def test_errors(fwd):
    name = fwd.__name__
    x = np.zeros((1, 4, 5, 5))
    with pytest.raises(ValueError, match=rf"{name}: x has 4 channels but w expects 3"):
        fwd(x, np.zeros((2, 3, 3, 3)), None)
    with pytest.raises(ValueError, match=rf"{name}: x must be 4-D"):
        fwd(np.zeros((4, 5, 5)), np.zeros((2, 4, 3, 3)), None)
    with pytest.raises(ValueError, match=rf"{name}: w must be 4-D"):
        fwd(x, np.zeros((4, 3, 3)), None)
    with pytest.raises(ValueError, match=rf"{name}: kernel 7x7 is larger than the padded input 5x5"):
        fwd(x, np.zeros((2, 4, 7, 7)), None)
    fwd(x, np.zeros((2, 4, 7, 7)), None, padding=1)  # 7x7 fits once padded
    with pytest.raises(ValueError, match=rf"{name}: b must have shape \(2,\)"):
        fwd(x, np.zeros((2, 4, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=rf"{name}: stride must be > 0"):
        fwd(x, np.zeros((2, 4, 3, 3)), None, stride=0)
    with pytest.raises(ValueError, match=rf"{name}: padding must be >= 0"):
        fwd(x, np.zeros((2, 4, 3, 3)), None, padding=(1, -1))
    with pytest.raises(ValueError, match=rf"{name}: stride must be an int or a pair"):
        fwd(x, np.zeros((2, 4, 3, 3)), None, stride=1.5)


def test_backward_checks_dout_shape():
    _, cache = conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((2, 1, 3, 3)), None)
    with pytest.raises(ValueError, match=r"conv2d_backward: dout must have shape \(1, 2, 2, 2\)"):
        conv2d_backward(np.zeros((1, 2, 3, 3)), cache)


@pytest.mark.parametrize("keep", [True, False])
def test_fast_matches_loops_when_a_phase_gets_no_kernel_offset(keep, monkeypatch):
    # conv2d_backward copies each stride phase's first offset into dx and zeroes the rest of
    # the phase; with a stride larger than the kernel some phases get no offset at all.
    import dlcore._fast_conv as fast
    if not keep:  # the im2col matrix rebuilt in the backward, a few images per chunk
        monkeypatch.setattr(fast, "_KEEP_BYTES", 0)
        monkeypatch.setattr(fast, "_CHUNK_BYTES", 64)
    rng = np.random.default_rng(3)
    for (KH, KW), (SH, SW), (PH, PW) in [((1, 1), (2, 2), (0, 0)), ((2, 1), (3, 2), (1, 0)),
                                         ((3, 3), (2, 4), (0, 2)), ((1, 3), (3, 1), (1, 1)),
                                         ((5, 5), (2, 2), (0, 0))]:
        x = rng.standard_normal((3, 2, 7, 8))
        w = rng.standard_normal((4, 2, KH, KW))
        b = rng.standard_normal(4)
        out, cache = conv2d_forward(x, w, b, (SH, SW), (PH, PW))
        out_l, cache_l = conv2d_forward_loops(x, w, b, (SH, SW), (PH, PW))
        np.testing.assert_allclose(out, out_l, rtol=1e-12, atol=1e-12)
        dout = rng.standard_normal(out.shape)
        for got, want in zip(conv2d_backward(dout, cache), conv2d_backward_loops(dout, cache_l)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
