"""dlcore.gradcheck: central differences are accurate, leave x untouched, and fail clearly."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dlcore.gradcheck import max_relative_error, numerical_gradient


def test_quadratic_by_hand():
    # f = sum x^2: central differences are exact up to rounding for a quadratic
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(numerical_gradient(lambda v: float(np.sum(v ** 2)), x), [2.0, -4.0, 1.0], rtol=1e-9)


def test_error_is_second_order_in_h():
    # f = exp(x0) * sin(x1): the central-difference error shrinks ~100x when h shrinks 10x
    f = lambda v: math.exp(v[0]) * math.sin(v[1])  # noqa: E731
    x = np.array([0.3, 1.1])
    exact = np.array([math.exp(0.3) * math.sin(1.1), math.exp(0.3) * math.cos(1.1)])
    e1 = np.abs(numerical_gradient(f, x, h=1e-2) - exact).max()
    e2 = np.abs(numerical_gradient(f, x, h=1e-3) - exact).max()
    assert 60 < e1 / e2 < 140
    assert max_relative_error(numerical_gradient(f, x), exact) < 1e-9


def test_x_is_left_exactly_as_found():
    x = np.random.default_rng(0).normal(size=(3, 4))
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    np.testing.assert_array_equal(x, before)  # bit for bit


def test_x_is_restored_when_f_raises():
    x = np.arange(6, dtype=float).reshape(2, 3)
    before = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 4:  # second entry, minus side
            raise RuntimeError("boom")
        return float(v.sum())

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)


def test_non_contiguous_view_is_perturbed_in_place():
    base = np.arange(12, dtype=float).reshape(3, 4)
    view = base[:, ::2]  # (3, 2), not contiguous
    w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    g = numerical_gradient(lambda v: float(np.sum(w * view)), view)
    np.testing.assert_allclose(g, w, rtol=1e-9)
    np.testing.assert_array_equal(base, np.arange(12, dtype=float).reshape(3, 4))


def test_accepts_one_element_array_results_and_keeps_dtype():
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = numerical_gradient(lambda v: np.sum(v * v, keepdims=True), x, h=1e-2)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [2.0, 4.0], rtol=1e-3)


def test_max_relative_error_by_hand():
    assert max_relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert max_relative_error([1.0], [3.0]) == pytest.approx(0.5)   # |1-3| / (1+3)
    assert max_relative_error([1.0, -1.0], [1.0, 1.0]) == pytest.approx(1.0)
    assert max_relative_error([0.0], [0.0]) == 0.0
    assert max_relative_error([1e-12], [0.0]) == pytest.approx(1e-4)   # floor 1e-8 on the denominator
    assert max_relative_error(np.zeros(0), np.zeros(0)) == 0.0
    assert type(max_relative_error([1.0], [2.0])) is float


def test_a_wrong_gradient_is_caught():
    x = np.random.default_rng(1).normal(size=5)
    num = numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    assert max_relative_error(3 * x ** 2, num) < 1e-8
    assert max_relative_error(2 * x ** 2, num) > 0.1


@pytest.mark.parametrize("call, pattern", [
    (lambda: numerical_gradient(lambda v: 0.0, np.array([1, 2])), r"numerical_gradient: x must be a float numpy array .* got int64"),
    (lambda: numerical_gradient(lambda v: 0.0, [1.0, 2.0]), r"numerical_gradient: x must be a float numpy array .* got list"),
    (lambda: numerical_gradient(lambda v: v, np.zeros(2)), r"numerical_gradient: f must return a scalar, got an array of shape \(2,\)"),
    (lambda: numerical_gradient(lambda v: 0.0, np.zeros(2), h=0.0), r"numerical_gradient: h must be > 0, got 0.0"),
    (lambda: numerical_gradient(3.0, np.zeros(2)), r"numerical_gradient: f must be a function"),
    (lambda: max_relative_error(np.zeros(2), np.zeros(3)), r"max_relative_error: a and b must have the same shape, got \(2,\) and \(3,\)"),
])
def test_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_read_only_x_is_refused():
    x = np.zeros(2)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="numerical_gradient: x must be writable"):
        numerical_gradient(lambda v: 0.0, x)
