"""dlcore.batchnorm: by hand, against torch's batch_norm (train and eval), gradient checks, running stats."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dlcore.batchnorm import batch_norm_backward, batch_norm_eval, batch_norm_forward, update_running_stats
from dlcore.gradcheck import numerical_gradient

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


@pytest.fixture(scope="module")
def torch():
    """PyTorch, if installed, on one thread: on a busy 2-core machine its thread pool turns each
    tiny op into ~0.1 s of waiting. The previous thread count is restored afterwards."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


x_shapes = st.one_of(
    st.tuples(st.integers(2, 6), st.integers(1, 4)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
).filter(lambda s: (np.prod(s) // s[1]) >= 2)


def _inputs(shape, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    c = shape[1]
    return (rng.normal(loc=rng.normal(), scale=2.0, size=shape).astype(dtype),
            rng.normal(size=c).astype(dtype), rng.normal(size=c).astype(dtype), rng.normal(size=shape).astype(dtype))


def test_by_hand():
    # one feature, x = [0, 0, 2, 2]: mean 1, biased var 1, x_hat = [-1, -1, 1, 1]
    x = np.array([[0.0], [0.0], [2.0], [2.0]])
    out, cache = batch_norm_forward(x, np.array([2.0]), np.array([1.0]), eps=0.0)
    np.testing.assert_allclose(out.ravel(), [-1.0, -1.0, 3.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose([cache.mean[0], cache.var[0]], [1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(cache.x_hat.ravel(), [-1.0, -1.0, 1.0, 1.0], rtol=1e-15)
    # dout = [1, 0, 0, 0]: dbeta = 1, dgamma = -1,
    # dx = gamma/std/M * (M dout - dbeta - x_hat dgamma) = 2/4 * ([4,0,0,0] - 1 + [-1,-1,1,1]) = [1, -1, 0, 0]
    dx, dgamma, dbeta = batch_norm_backward(np.array([[1.0], [0.0], [0.0], [0.0]]), cache)
    np.testing.assert_allclose(dx.ravel(), [1.0, -1.0, 0.0, 0.0], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(dgamma, [-1.0], rtol=1e-15)
    np.testing.assert_allclose(dbeta, [1.0], rtol=1e-15)


def test_nchw_normalises_each_channel_over_n_h_w():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 3, 5, 2)) * np.array([1.0, 10.0, 0.1])[None, :, None, None] + 7.0
    out, _ = batch_norm_forward(x, np.ones(3), np.zeros(3), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-13)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1.0, rtol=1e-12)


@SETTINGS
@given(shape=x_shapes, seed=st.integers(0, 2**16))
def test_train_mode_matches_torch(shape, seed, torch):
    x, gamma, beta, dout = _inputs(shape, seed)
    out, cache = batch_norm_forward(x, gamma, beta, eps=1e-5)
    dx, dgamma, dbeta = batch_norm_backward(dout, cache)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    tout = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-5)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dgamma, tg.grad.numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dbeta, tb.grad.numpy(), rtol=1e-6, atol=1e-10)


def test_realistic_shapes_match_torch(torch):
    for shape in ((64, 32, 16, 16), (256, 512)):
        x, gamma, beta, dout = _inputs(shape, 0)
        out, cache = batch_norm_forward(x, gamma, beta)
        dx, dgamma, dbeta = batch_norm_backward(dout, cache)
        tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True).backward(torch.tensor(dout))
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(dgamma, tg.grad.numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(dbeta, tb.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_large_offset_does_not_cancel(torch):
    # two-pass statistics: a mean of 1e4 with unit spread still normalises to 1e-6 against torch
    rng = np.random.default_rng(5)
    x = 1e4 + rng.normal(size=(32, 3))
    gamma, beta, dout = rng.normal(size=3), rng.normal(size=3), rng.normal(size=(32, 3))
    out, cache = batch_norm_forward(x, gamma, beta)
    dx, dgamma, _ = batch_norm_backward(dout, cache)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    tout = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dgamma, tg.grad.numpy(), rtol=1e-6, atol=1e-9)
    out32, _ = batch_norm_forward(x.astype(np.float32), gamma.astype(np.float32), beta.astype(np.float32))
    np.testing.assert_allclose(out32, out, rtol=1e-2, atol=1e-2)  # float32 keeps ~3 digits of a 1e4 offset


@SETTINGS
@given(shape=x_shapes, seed=st.integers(0, 2**16))
def test_backward_matches_numerical_gradient(shape, seed):
    x, gamma, beta, dout = _inputs(shape, seed)
    _, cache = batch_norm_forward(x, gamma, beta)
    dx, dgamma, dbeta = batch_norm_backward(dout, cache)

    def f(x_, g_, b_):
        return float(np.sum(batch_norm_forward(x_, g_, b_)[0] * dout))
    np.testing.assert_allclose(dx, numerical_gradient(lambda v: f(v, gamma, beta), x.copy()), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dgamma, numerical_gradient(lambda v: f(x, v, beta), gamma.copy()), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dbeta, numerical_gradient(lambda v: f(x, gamma, v), beta.copy()), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 2, 2)])
def test_eval_mode_and_running_stats_match_torch(shape, torch):
    x, gamma, beta, _ = _inputs(shape, 11)
    c = shape[1]
    layer = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(c, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(gamma))
        layer.bias.copy_(torch.tensor(beta))
    rm, rv = np.zeros(c), np.ones(c)
    for step in range(3):
        xs = x + step
        layer.train()
        layer(torch.tensor(xs))
        _, cache = batch_norm_forward(xs, gamma, beta, eps=layer.eps)
        rm, rv = update_running_stats(rm, rv, cache, momentum=0.1)
    np.testing.assert_allclose(rm, layer.running_mean.numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(rv, layer.running_var.numpy(), rtol=1e-6, atol=1e-12)
    layer.eval()
    x1 = x[:1]  # eval mode works for a single example
    np.testing.assert_allclose(batch_norm_eval(x1, rm, rv, gamma, beta), layer(torch.tensor(x1)).detach().numpy(),
                               rtol=1e-6, atol=1e-12)


def test_running_stats_use_the_unbiased_variance():
    x = np.array([[0.0], [0.0], [2.0], [2.0]])  # biased var 1, unbiased 4/3
    _, cache = batch_norm_forward(x, np.ones(1), np.zeros(1))
    rm, rv = update_running_stats(np.zeros(1), np.ones(1), cache, momentum=1.0)
    np.testing.assert_allclose([rm[0], rv[0]], [1.0, 4.0 / 3.0], rtol=1e-15)
    rm0, rv0 = np.zeros(1), np.ones(1)
    update_running_stats(rm0, rv0, cache)
    assert rm0[0] == 0.0 and rv0[0] == 1.0  # inputs untouched


def test_float32_in_float32_out():
    x, gamma, beta, dout = _inputs((6, 3, 4, 4), 2, np.float32)
    out, cache = batch_norm_forward(x, gamma, beta)
    grads = batch_norm_backward(dout, cache)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    assert batch_norm_backward(dout.astype(np.float64), cache)[0].dtype == np.float32
    ref_out, ref_cache = batch_norm_forward(*(a.astype(np.float64) for a in (x, gamma, beta)))
    ref = batch_norm_backward(dout.astype(np.float64), ref_cache)
    np.testing.assert_allclose(out, ref_out, rtol=1e-4, atol=1e-5)
    for g, r in zip(grads, ref):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4)
    rm, rv = (np.zeros(3, np.float32), np.ones(3, np.float32))
    assert batch_norm_eval(x, rm, rv, gamma, beta).dtype == np.float32
    assert all(a.dtype == np.float32 for a in update_running_stats(rm, rv, cache))


def test_gamma_beta_dtype_follow_their_own_arrays():
    x = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    _, cache = batch_norm_forward(x, np.ones(2), np.zeros(2))
    dx, dgamma, dbeta = batch_norm_backward(np.ones((4, 2), np.float32), cache)
    assert dx.dtype == np.float32 and dgamma.dtype == np.float64 and dbeta.dtype == np.float64


@pytest.mark.parametrize("call, pattern", [
    (lambda: batch_norm_forward(np.zeros((2, 3, 4)), np.ones(3), np.zeros(3)),
     r"batch_norm_forward: x must be 2-D or 4-D \(N, D\) or \(N, C, H, W\), got shape \(2, 3, 4\)"),
    (lambda: batch_norm_forward(np.zeros((2, 3, 4, 4)), np.ones(4), np.zeros(3)),
     r"batch_norm_forward: gamma must have shape \(3,\) for x of shape \(2, 3, 4, 4\) \(3 channels\), got \(4,\)"),
    (lambda: batch_norm_forward(np.zeros((5, 3)), np.ones(3), np.zeros(2)),
     r"batch_norm_forward: beta must have shape \(3,\) for x of shape \(5, 3\) \(3 features\), got \(2,\)"),
    (lambda: batch_norm_forward(np.zeros((1, 3)), np.ones(3), np.zeros(3)),
     r"batch_norm_forward: expected more than 1 value per channel in training mode, got x of shape \(1, 3\)"),
    (lambda: batch_norm_forward(np.zeros((4, 3)), np.ones(3), np.zeros(3), eps=-1.0), r"batch_norm_forward: eps must be >= 0"),
    (lambda: batch_norm_backward(np.zeros((4, 2)), batch_norm_forward(np.zeros((4, 3)), np.ones(3), np.zeros(3))[1]),
     r"batch_norm_backward: dout must have the shape of x \(4, 3\), got \(4, 2\)"),
    (lambda: batch_norm_eval(np.zeros((1, 3)), np.zeros(3), -np.ones(3), np.ones(3), np.zeros(3)),
     r"batch_norm_eval: running_var must be >= 0, got -1.0"),
    (lambda: batch_norm_eval(np.zeros((1, 3)), np.zeros(2), np.ones(3), np.ones(3), np.zeros(3)),
     r"batch_norm_eval: running_mean must have shape \(3,\)"),
    (lambda: update_running_stats(np.zeros(3), np.ones(3), batch_norm_forward(np.zeros((4, 3)), np.ones(3), np.zeros(3))[1],
                                  momentum=1.5), r"update_running_stats: momentum must lie in \[0, 1\], got 1.5"),
])
def test_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
