"""dlcore.linear: out = x @ w.T + b — by hand, against torch.nn.functional.linear, gradient checks."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dlcore.gradcheck import numerical_gradient
from dlcore.linear import linear_backward, linear_forward

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


def test_by_hand():
    x = np.array([[1.0, 2.0], [0.0, -1.0]])           # (N=2, in=2)
    w = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])  # (out=3, in=2)
    b = np.array([0.5, 0.0, -1.0])
    out, cache = linear_forward(x, w, b)
    np.testing.assert_allclose(out, [[11.5, 1.0, 3.0], [-3.5, 0.0, -3.0]], rtol=1e-15)
    dout = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    dx, dw, db = linear_backward(dout, cache)
    np.testing.assert_allclose(dx, [[3.0, 4.0], [0.0, 2.0]], rtol=1e-15)    # dout @ w
    np.testing.assert_allclose(dw, [[1.0, 2.0], [0.0, 0.0], [0.0, -1.0]], rtol=1e-15)  # dout.T @ x
    np.testing.assert_allclose(db, [1.0, 0.0, 1.0], rtol=1e-15)


def test_no_bias_gives_none_gradient():
    x, w = np.ones((2, 3)), np.ones((4, 3))
    out, cache = linear_forward(x, w, None)
    np.testing.assert_allclose(out, np.full((2, 4), 3.0))
    dx, dw, db = linear_backward(np.ones((2, 4)), cache)
    assert db is None
    np.testing.assert_allclose(dw, np.full((4, 3), 2.0))
    assert linear_forward(x, w)[0].shape == (2, 4)  # b defaults to None


@SETTINGS
@given(lead=st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple), fin=st.integers(1, 5),
       fout=st.integers(1, 5), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_matches_torch_and_numerical_gradient(lead, fin, fout, bias, seed, torch):
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=lead + (fin,)), rng.normal(size=(fout, fin))
    b = rng.normal(size=fout) if bias else None
    dout = rng.normal(size=lead + (fout,))
    out, cache = linear_forward(x, w, b)
    dx, dw, db = linear_backward(dout, cache)

    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    tout = torch.nn.functional.linear(tx, tw, tb)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-6, atol=1e-12)
    if bias:
        np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-6, atol=1e-12)

    def f(x_, w_, b_):
        return float(np.sum(linear_forward(x_, w_, b_)[0] * dout))
    np.testing.assert_allclose(dx, numerical_gradient(lambda v: f(v, w, b), x.copy()), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, numerical_gradient(lambda v: f(x, v, b), w.copy()), rtol=1e-6, atol=1e-8)
    if bias:
        np.testing.assert_allclose(db, numerical_gradient(lambda v: f(x, w, v), b.copy()), rtol=1e-6, atol=1e-8)


def test_float32_in_float32_out():
    rng = np.random.default_rng(0)
    x, w, b = (rng.normal(size=s).astype(np.float32) for s in ((4, 3), (2, 3), (2,)))
    out, cache = linear_forward(x, w, b)
    grads = linear_backward(np.ones((4, 2), dtype=np.float32), cache)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    # float64 upstream gradient: each gradient still has its own input's dtype
    grads = linear_backward(np.ones((4, 2)), cache)
    assert all(g.dtype == np.float32 for g in grads)
    np.testing.assert_allclose(out, linear_forward(x.astype(float), w.astype(float), b.astype(float))[0], rtol=1e-5)


@pytest.mark.parametrize("call, pattern", [
    (lambda: linear_forward(np.zeros((2, 4)), np.zeros((5, 3)), None),
     r"linear_forward: x has 4 features \(last axis of \(2, 4\)\) but w expects 3 \(w has shape \(5, 3\)\)"),
    (lambda: linear_forward(np.zeros((2, 3)), np.zeros(3), None), r"linear_forward: w must be 2-D \(out_features, in_features\), got shape \(3,\)"),
    (lambda: linear_forward(np.zeros((2, 3)), np.zeros((5, 3)), np.zeros(3)),
     r"linear_forward: b must have shape \(5,\) to match w \(5, 3\), got \(3,\)"),
    (lambda: linear_forward(np.float64(1.0), np.zeros((5, 1)), None), r"linear_forward: x must be \(N, in_features\)"),
    (lambda: linear_backward(np.zeros((2, 4)), linear_forward(np.zeros((2, 3)), np.zeros((5, 3)))[1]),
     r"linear_backward: dout must have the forward output's shape \(2, 5\), got \(2, 4\)"),
    (lambda: linear_forward(np.array([["a"]]), np.zeros((1, 1)), None), r"linear_forward: x must hold numbers"),
])
def test_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
