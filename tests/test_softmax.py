"""dlcore.softmax: hand-worked values, stability at 1e4, PyTorch agreement, the JVP, dtypes, errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dlcore import softmax as S
from dlcore.gradcheck import numerical_gradient

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


def test_softmax_by_hand():
    # exp(0) : exp(log 3) = 1 : 3
    np.testing.assert_allclose(S.softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75], rtol=1e-14)
    np.testing.assert_allclose(S.log_softmax(np.array([0.0, math.log(3.0)])), [math.log(0.25), math.log(0.75)], rtol=1e-14)
    # adding a constant to every logit changes nothing
    np.testing.assert_allclose(S.softmax(np.array([5.0, 5.0 + math.log(3.0)])), [0.25, 0.75], rtol=1e-14)
    # axis=0 of a 2x2: columns
    z = np.array([[0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(S.softmax(z, axis=0), np.full((2, 2), 0.5), rtol=1e-15)


def test_softmax_backward_by_hand():
    # p = [0.25, 0.75]; dz = p * (dp - p.dp): dp = [1, 0] -> p.dp = 0.25 -> [0.25*0.75, 0.75*(-0.25)]
    p, cache = S.softmax_forward(np.array([0.0, math.log(3.0)]))
    np.testing.assert_allclose(S.softmax_backward(np.array([1.0, 0.0]), cache), [0.1875, -0.1875], rtol=1e-13)


def test_stable_for_logits_of_magnitude_1e4():
    z = np.array([[1e4, -1e4, 0.0], [1e4, 1e4 - 1.0, -1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = S.softmax(z)
        logp = S.log_softmax(z)
    assert np.isfinite(p).all() and np.isfinite(logp).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(logp[0], [0.0, -2e4, -1e4], rtol=1e-15)
    np.testing.assert_allclose(logp[1, :2], [-math.log1p(math.exp(-1.0)), -1.0 - math.log1p(math.exp(-1.0))], rtol=1e-13)


def test_naive_softmax_overflows_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = S.naive_softmax(np.array([1000.0, 0.0]))     # inf / inf
        small = S.naive_softmax(np.array([-1000.0, -1000.0]))  # 0 / 0
        fine = S.naive_softmax(np.array([0.0, math.log(3.0)]))
    assert math.isnan(big[0]) and big[1] == 0.0
    assert np.isnan(small).all()
    np.testing.assert_allclose(fine, [0.25, 0.75], rtol=1e-14)
    # the stable version gets the same inputs right
    np.testing.assert_allclose(S.softmax(np.array([1000.0, 0.0])), [1.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(S.softmax(np.array([-1000.0, -1000.0])), [0.5, 0.5], rtol=1e-15)


def test_infinite_logits_behave_like_torch(torch):
    z = np.array([[np.inf, 0.0], [-np.inf, -np.inf], [-np.inf, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours, ours_log = S.softmax(z), S.log_softmax(z)
    np.testing.assert_array_equal(ours, torch.softmax(torch.tensor(z), -1).numpy())
    np.testing.assert_array_equal(ours_log, torch.log_softmax(torch.tensor(z), -1).numpy())


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 50.0, 1e4]), data=st.data())
def test_match_torch(shape, seed, scale, data, torch):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    z = scale * np.random.default_rng(seed).normal(size=shape)
    tz = torch.tensor(z)
    np.testing.assert_allclose(S.softmax(z, axis=axis), torch.softmax(tz, axis).numpy(), rtol=1e-6, atol=1e-300)
    np.testing.assert_allclose(S.log_softmax(z, axis=axis), torch.log_softmax(tz, axis).numpy(), rtol=1e-6, atol=1e-12)


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_backward_matches_torch_and_numerical_gradient(shape, seed, torch):
    rng = np.random.default_rng(seed)
    z, dp = 2 * rng.normal(size=shape), rng.normal(size=shape)
    p, cache = S.softmax_forward(z)
    dz = S.softmax_backward(dp, cache)
    tz = torch.tensor(z, requires_grad=True)
    torch.softmax(tz, -1).backward(torch.tensor(dp))
    np.testing.assert_allclose(p, S.softmax(z), rtol=1e-15)
    np.testing.assert_allclose(dz, tz.grad.numpy(), rtol=1e-6, atol=1e-12)
    num = numerical_gradient(lambda v: float(np.sum(S.softmax(v) * dp)), z.copy())
    np.testing.assert_allclose(dz, num, rtol=1e-6, atol=1e-9)
    # rows of the Jacobian sum to zero: a constant dp gives no gradient
    np.testing.assert_allclose(S.softmax_backward(np.ones(shape), cache), 0.0, atol=1e-15)


def test_float32_in_float32_out():
    z = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
    p, cache = S.softmax_forward(z)
    for a in (S.softmax(z), S.log_softmax(z), p, S.softmax_backward(np.ones_like(z), cache), S.naive_softmax(z)):
        assert a.dtype == np.float32
    np.testing.assert_allclose(S.softmax(z), S.softmax(z.astype(np.float64)), rtol=1e-6)
    big = np.array([1e4, -1e4, 0.0], dtype=np.float32)
    assert np.isfinite(S.log_softmax(big)).all() and S.softmax(big).dtype == np.float32


@pytest.mark.parametrize("call, pattern", [
    (lambda: S.softmax(np.zeros((2, 3)), axis=2), r"softmax: axis must be an int in \[-2, 1\] for z of shape \(2, 3\), got 2"),
    (lambda: S.log_softmax(np.zeros(3), axis=1.0), r"log_softmax: axis must be an int .* got 1.0"),
    (lambda: S.softmax(np.float64(1.0)), r"softmax: z must have at least one axis"),
    (lambda: S.softmax_forward(np.array(["a"])), r"softmax_forward: z must hold numbers"),
    (lambda: S.softmax_backward(np.zeros(4), S.softmax_forward(np.zeros(3))[1]),
     r"softmax_backward: dp and cache.p must have the same shape, got \(4,\) and \(3,\)"),
])
def test_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
