"""dlcore.activations: hand-worked values, extremes without warnings, PyTorch agreement, gradients."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dlcore import activations as A
from dlcore.gradcheck import numerical_gradient

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


def test_by_hand():
    np.testing.assert_allclose(A.sigmoid(np.array([0.0, math.log(3.0)])), [0.5, 0.75], rtol=1e-15)
    np.testing.assert_allclose(A.sigmoid_grad(np.array([0.0, math.log(3.0)])), [0.25, 0.75 * 0.25], rtol=1e-15)
    np.testing.assert_array_equal(A.relu(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(A.relu_grad(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])
    # backward pairs
    _, cache = A.relu_forward(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(A.relu_backward(np.array([5.0, 5.0, 5.0]), cache), [0.0, 0.0, 5.0])
    _, cache = A.sigmoid_forward(np.array([0.0]))
    np.testing.assert_allclose(A.sigmoid_backward(np.array([4.0]), cache), [1.0], rtol=1e-15)


def test_extremes_are_finite_and_quiet():
    x = np.array([-1e308, -1000.0, -40.0, -1e-300, 0.0, 1e-300, 40.0, 1000.0, 1e308, np.inf, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = A.sigmoid(x)
        g = A.sigmoid_grad(x)
        x32 = np.array([-3e38, -1000.0, -40.0, 0.0, 40.0, 1000.0, 3e38, np.inf, -np.inf], dtype=np.float32)
        s32 = A.sigmoid(x32)
        g32 = A.sigmoid_grad(x32)
    for arr in (s, g, s32, g32):
        assert np.isfinite(arr).all()
    assert s[0] == 0.0 and s[-3] == 1.0 and s[4] == 0.5
    assert (g >= 0).all() and g.max() == 0.25
    # the derivative keeps decaying like exp(-|x|) instead of rounding to 0 at |x| ~ 37
    assert g[2] == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert g[6] == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert A.sigmoid(np.array([-40.0]))[0] == pytest.approx(math.exp(-40.0), rel=1e-12)


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 10.0, 100.0]))
def test_match_torch(shape, seed, scale, torch):
    rng = np.random.default_rng(seed)
    x, dout = scale * rng.normal(size=shape), rng.normal(size=shape)
    tx = torch.tensor(x, requires_grad=True)
    out = torch.sigmoid(tx)
    out.backward(torch.tensor(dout))
    np.testing.assert_allclose(A.sigmoid(x), out.detach().numpy(), rtol=1e-6, atol=1e-300)
    # torch's (1 - s) s rounds to 0 past |x| ~ 37; the two agree to 1e-16 absolute
    _, cache = A.sigmoid_forward(x)
    np.testing.assert_allclose(A.sigmoid_backward(dout, cache), tx.grad.numpy(), rtol=1e-6, atol=1e-15)
    s = torch.sigmoid(tx).detach().numpy()
    np.testing.assert_allclose(A.sigmoid_grad(x), s * (1 - s), rtol=1e-6, atol=1e-15)

    tx = torch.tensor(x, requires_grad=True)
    out = torch.relu(tx)
    out.backward(torch.tensor(dout))
    np.testing.assert_array_equal(A.relu(x), out.detach().numpy())
    _, cache = A.relu_forward(x)
    np.testing.assert_array_equal(A.relu_backward(dout, cache), tx.grad.numpy())


def test_relu_gradient_at_zero_is_zero_like_torch(torch):
    tx = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    torch.relu(tx).sum().backward()
    np.testing.assert_array_equal(A.relu_grad(np.zeros(3)), tx.grad.numpy())


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_backward_matches_numerical_gradient(shape, seed):
    rng = np.random.default_rng(seed)
    x, dout = 3 * rng.normal(size=shape), rng.normal(size=shape)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from relu's kink, where a difference quotient straddles it
    for fwd, bwd, f in ((A.sigmoid_forward, A.sigmoid_backward, A.sigmoid), (A.relu_forward, A.relu_backward, A.relu)):
        _, cache = fwd(x)
        num = numerical_gradient(lambda v: float(np.sum(f(v) * dout)), x.copy())
        np.testing.assert_allclose(bwd(dout, cache), num, rtol=1e-6, atol=1e-9)
    # the elementwise derivatives too
    num = numerical_gradient(lambda v: float(np.sum(A.sigmoid(v))), x.copy())
    np.testing.assert_allclose(A.sigmoid_grad(x), num, rtol=1e-6, atol=1e-9)
    num = numerical_gradient(lambda v: float(np.sum(A.relu(v))), x.copy())
    np.testing.assert_allclose(A.relu_grad(x), num, rtol=1e-6, atol=1e-9)


def test_float32_in_float32_out():
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    outs = [A.sigmoid(x), A.sigmoid_grad(x), A.relu(x), A.relu_grad(x)]
    for fwd, bwd in ((A.sigmoid_forward, A.sigmoid_backward), (A.relu_forward, A.relu_backward)):
        out, cache = fwd(x)
        outs += [out, bwd(np.ones_like(x), cache), bwd(np.ones(x.shape), cache)]
    for a in outs:
        assert a.dtype == np.float32
    np.testing.assert_allclose(A.sigmoid(x), A.sigmoid(x.astype(np.float64)), rtol=1e-6)


def test_integers_are_promoted():
    assert A.relu([-1, 2]).dtype == np.float64
    np.testing.assert_array_equal(A.relu_grad([-1, 2]), [0.0, 1.0])


@pytest.mark.parametrize("call, pattern", [
    (lambda: A.sigmoid(np.array(["a"])), r"sigmoid: x must hold numbers, got dtype <U1"),
    (lambda: A.relu_grad(np.array([None])), r"relu_grad: x must hold numbers"),
    (lambda: A.relu_backward(np.zeros(2), A.relu_forward(np.zeros(3))[1]),
     r"relu_backward: dout and x must have the same shape, got \(2,\) and \(3,\)"),
    (lambda: A.sigmoid_backward(np.zeros((3, 1)), A.sigmoid_forward(np.zeros(3))[1]),
     r"sigmoid_backward: dout and x must have the same shape, got \(3, 1\) and \(3,\)"),
])
def test_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
