"""dlcore.losses: hand-worked values, PyTorch agreement, gradient checks, dtypes and errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dlcore import losses as L
from dlcore.gradcheck import max_relative_error, numerical_gradient

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


# --------------------------------------------------------------------------- hand-worked cases
def test_mse_by_hand():
    # ((1 - 0)^2 + (2 - 0)^2) / 2 = 2.5; gradient 2 (pred - target) / n = [1, 2]
    assert L.mse_loss([1.0, 2.0], [0.0, 0.0]) == pytest.approx(2.5, rel=1e-15)
    np.testing.assert_allclose(L.mse_loss_grad([1.0, 2.0], [0.0, 0.0]), [1.0, 2.0], rtol=1e-15)


def test_bce_by_hand():
    # p = 0.5, y = 1: -log 0.5 = ln 2;  p = 0.8, y = 0: -log 0.2
    assert L.binary_cross_entropy([0.5], [1.0]) == pytest.approx(math.log(2), rel=1e-12)
    assert L.binary_cross_entropy([0.5, 0.8], [1.0, 0.0]) == pytest.approx((math.log(2) - math.log(0.2)) / 2, rel=1e-12)
    # (p - y) / (p (1 - p)) / n = (0.5 - 1) / 0.25 = -2 and (0.8 - 0) / 0.16 / 2 = 2.5
    np.testing.assert_allclose(L.binary_cross_entropy_grad([0.5], [1.0]), [-2.0], rtol=1e-12)
    np.testing.assert_allclose(L.binary_cross_entropy_grad([0.5, 0.8], [1.0, 0.0]), [-1.0, 2.5], rtol=1e-12)


def test_cross_entropy_by_hand():
    assert L.cross_entropy([[0.0, 0.0]], [1]) == pytest.approx(math.log(2), rel=1e-12)
    np.testing.assert_allclose(L.cross_entropy_grad([[0.0, 0.0]], [1]), [[0.5, -0.5]], rtol=1e-12)
    # logsumexp(1, 2, 3) - 3
    expected = math.log(math.e + math.e ** 2 + math.e ** 3) - 3.0
    assert L.cross_entropy([[1.0, 2.0, 3.0]], [2]) == pytest.approx(expected, rel=1e-12)
    # two rows: mean of the two losses
    two = L.cross_entropy([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [2, 0])
    assert two == pytest.approx((expected + math.log(3)) / 2, rel=1e-12)


def test_sigmoid_output_losses_by_hand():
    # z = 0: sigmoid 0.5; MSE against 1 is 0.25, its z-gradient 2 (0.5 - 1) 0.25 = -0.25
    assert L.sigmoid_mse_loss([0.0], [1.0]) == pytest.approx(0.25, rel=1e-15)
    np.testing.assert_allclose(L.sigmoid_mse_grad_z([0.0], [1.0]), [-0.25], rtol=1e-15)
    assert L.binary_cross_entropy_with_logits([0.0], [1.0]) == pytest.approx(math.log(2), rel=1e-12)
    np.testing.assert_allclose(L.sigmoid_bce_grad_z([0.0, 0.0], [1.0, 0.0]), [-0.25, 0.25], rtol=1e-15)


def test_losses_return_python_floats():
    for value in (L.mse_loss([1.0], [0.0]), L.binary_cross_entropy([0.3], [1.0]),
                  L.cross_entropy([[1.0, 0.0]], [0]), L.sigmoid_mse_loss([1.0], [0.0]),
                  L.binary_cross_entropy_with_logits([1.0], [0.0])):
        assert type(value) is float


# --------------------------------------------------------------------------- PyTorch agreement
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_mse_and_bce_match_torch(shape, seed, torch):
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    tp = torch.tensor(pred, requires_grad=True)
    loss = F.mse_loss(tp, torch.tensor(target))
    loss.backward()
    assert L.mse_loss(pred, target) == pytest.approx(loss.item(), rel=1e-6)
    np.testing.assert_allclose(L.mse_loss_grad(pred, target), tp.grad.numpy(), rtol=1e-6, atol=1e-12)

    p = rng.uniform(0.0, 1.0, size=shape)
    y = rng.integers(0, 2, size=shape).astype(float)
    tp = torch.tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(tp, torch.tensor(y))
    loss.backward()
    assert L.binary_cross_entropy(p, y) == pytest.approx(loss.item(), rel=1e-6)
    np.testing.assert_allclose(L.binary_cross_entropy_grad(p, y), tp.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_bce_at_zero_and_one_matches_torch(torch):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-13, 1.0 - 1e-16])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0, 0.0])
    tp = torch.tensor(p, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy(tp, torch.tensor(y))
    loss.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = L.binary_cross_entropy(p, y)
        grad = L.binary_cross_entropy_grad(p, y)
    # each wrong-end term contributes the clamp value 100
    assert math.isfinite(ours) and ours == pytest.approx(loss.item(), rel=1e-6)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, tp.grad.numpy(), rtol=1e-6, atol=1e-12)
    assert grad[0] == 0.0 and grad[1] == 0.0          # already right: no push
    assert grad[2] == pytest.approx(-1e12 / 7, rel=1e-9)  # (0 - 1) / 1e-12 / n


@SETTINGS
@given(n=st.integers(1, 6), c=st.integers(1, 6), seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 30.0, 1e4]))
def test_cross_entropy_matches_torch(n, c, seed, scale, torch):
    rng = np.random.default_rng(seed)
    logits = scale * rng.normal(size=(n, c))
    labels = rng.integers(0, c, size=n)
    tz = torch.tensor(logits, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(tz, torch.tensor(labels))
    loss.backward()
    assert L.cross_entropy(logits, labels) == pytest.approx(loss.item(), rel=1e-6, abs=1e-12)
    np.testing.assert_allclose(L.cross_entropy_grad(logits, labels), tz.grad.numpy(), rtol=1e-6, atol=1e-12)


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_sigmoid_output_losses_match_torch(shape, seed, torch):
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    z = 4.0 * rng.normal(size=shape)
    y = rng.integers(0, 2, size=shape).astype(float)
    tz = torch.tensor(z, requires_grad=True)
    loss = F.mse_loss(torch.sigmoid(tz), torch.tensor(y))
    loss.backward()
    assert L.sigmoid_mse_loss(z, y) == pytest.approx(loss.item(), rel=1e-6)
    np.testing.assert_allclose(L.sigmoid_mse_grad_z(z, y), tz.grad.numpy(), rtol=1e-6, atol=1e-15)
    tz = torch.tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(tz, torch.tensor(y))
    loss.backward()
    assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(loss.item(), rel=1e-6)
    np.testing.assert_allclose(L.sigmoid_bce_grad_z(z, y), tz.grad.numpy(), rtol=1e-6, atol=1e-15)


# --------------------------------------------------------------------------- gradient checks
def _check(loss, grad, x, *rest):
    num = numerical_gradient(lambda v: loss(v, *rest), x)
    # central differences of an O(1) loss carry ~1e-11 of rounding noise, hence the atol
    np.testing.assert_allclose(grad(x, *rest), num, rtol=1e-6, atol=1e-8)
    assert max_relative_error(grad(x, *rest), num) < 1e-3


@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_gradients_match_numerical(shape, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=shape).astype(float)
    _check(L.mse_loss, L.mse_loss_grad, rng.normal(size=shape), rng.normal(size=shape))
    _check(L.binary_cross_entropy, L.binary_cross_entropy_grad, rng.uniform(0.05, 0.95, size=shape), y)
    _check(L.binary_cross_entropy, L.binary_cross_entropy_grad, rng.uniform(0.05, 0.95, size=shape),
           rng.uniform(size=shape))  # soft targets
    _check(L.sigmoid_mse_loss, L.sigmoid_mse_grad_z, 3 * rng.normal(size=shape), y)
    _check(L.binary_cross_entropy_with_logits, L.sigmoid_bce_grad_z, 3 * rng.normal(size=shape), y)


@SETTINGS
@given(n=st.integers(1, 5), c=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_cross_entropy_gradient_matches_numerical(n, c, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, size=n)
    _check(L.cross_entropy, L.cross_entropy_grad, 2 * rng.normal(size=(n, c)), labels)


def test_saturated_sigmoid_mse_gradient_vanishes_but_bce_does_not():
    # a confidently wrong unit: z = -10, target 1
    z, y = np.array([-10.0]), np.array([1.0])
    mse_g = float(L.sigmoid_mse_grad_z(z, y)[0])
    bce_g = float(L.sigmoid_bce_grad_z(z, y)[0])
    assert abs(mse_g) < 1e-4          # 2 (s - 1) s (1 - s) ~ -9.1e-5
    assert bce_g == pytest.approx(-1.0, rel=1e-4)  # s - 1 ~ -0.99995
    assert abs(bce_g / mse_g) > 1e4


def test_extreme_logits_stay_finite_without_warnings():
    z = np.array([-1e308, -800.0, 0.0, 800.0, 1e308])
    y = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isfinite(L.binary_cross_entropy_with_logits(z[1:-1], y[1:-1]))
        for g in (L.sigmoid_mse_grad_z(z, y), L.sigmoid_bce_grad_z(z, y)):
            assert np.isfinite(g).all()
        assert math.isfinite(L.cross_entropy([[1e4, -1e4, 0.0]], [1]))
        assert L.cross_entropy([[1e4, -1e4, 0.0]], [1]) == pytest.approx(2e4, rel=1e-12)


# --------------------------------------------------------------------------- dtypes
def test_float32_gradients_stay_float32():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.1, 0.9, size=(3, 4)).astype(np.float32)
    y = (rng.uniform(size=(3, 4)) > 0.5).astype(np.float32)
    z = rng.normal(size=(3, 4)).astype(np.float32)
    labels = np.array([0, 3, 1])
    grads = [L.mse_loss_grad(p, y), L.binary_cross_entropy_grad(p, y), L.cross_entropy_grad(z, labels),
             L.sigmoid_mse_grad_z(z, y), L.sigmoid_bce_grad_z(z, y)]
    for g in grads:
        assert g.dtype == np.float32
    np.testing.assert_allclose(L.cross_entropy_grad(z, labels),
                               L.cross_entropy_grad(z.astype(np.float64), labels), rtol=1e-5, atol=1e-7)
    assert type(L.cross_entropy(z, labels)) is float


def test_integer_inputs_are_promoted_to_float64():
    assert L.mse_loss_grad([1, 2], [0, 0]).dtype == np.float64
    assert L.mse_loss([1, 2], [0, 0]) == pytest.approx(2.5)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, pattern", [
    (lambda: L.mse_loss(np.zeros(3), np.zeros(4)), r"mse_loss: pred and target must have the same shape, got \(3,\) and \(4,\)"),
    (lambda: L.mse_loss_grad(np.zeros((2, 2)), np.zeros(4)), r"mse_loss_grad: pred and target .* \(2, 2\) and \(4,\)"),
    (lambda: L.mse_loss([], []), r"mse_loss: pred must hold at least one element"),
    (lambda: L.binary_cross_entropy([1.5], [1.0]), r"binary_cross_entropy: every element of p must lie in \[0, 1\], got 1.5"),
    (lambda: L.binary_cross_entropy_grad([np.nan], [1.0]), r"binary_cross_entropy_grad: every element of p .* got nan"),
    (lambda: L.binary_cross_entropy([0.5, 0.5], [1.0]), r"binary_cross_entropy: p and y must have the same shape"),
    (lambda: L.cross_entropy(np.zeros(3), [0]), r"cross_entropy: logits must be 2-D \(N, C\), got shape \(3,\)"),
    (lambda: L.cross_entropy(np.zeros((2, 3)), [0.0, 1.0]), r"cross_entropy: labels must be integer class indices, got dtype float64"),
    (lambda: L.cross_entropy(np.zeros((2, 3)), [0, 1, 2]), r"cross_entropy: labels must have shape \(2,\) to match logits \(2, 3\), got \(3,\)"),
    (lambda: L.cross_entropy_grad(np.zeros((2, 3)), [0, 3]), r"cross_entropy_grad: labels must lie in \[0, 2\] for 3 classes, got 3"),
    (lambda: L.cross_entropy(np.zeros((2, 3)), [-1, 0]), r"cross_entropy: labels must lie in \[0, 2\] for 3 classes, got -1"),
    (lambda: L.cross_entropy(np.zeros((0, 3)), np.zeros(0, int)), r"cross_entropy: logits must have at least one row"),
    (lambda: L.mse_loss(["a"], ["b"]), r"mse_loss: pred must hold numbers"),
    (lambda: L.sigmoid_bce_grad_z(np.zeros(2), np.zeros(3)), r"sigmoid_bce_grad_z: z and y must have the same shape"),
])
def test_errors_name_function_argument_and_values(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
