"""dlcore.regularization: inverted dropout, L2 weight decay and EarlyStopping."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dlcore.gradcheck import numerical_gradient
from dlcore.regularization import (EarlyStopping, dropout_backward, dropout_forward, l2_penalty,
                                   l2_penalty_grad)

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


# --------------------------------------------------------------------------- dropout
def test_dropout_by_hand():
    # p = 0.5: every kept unit is doubled, every dropped one is 0; backward uses the same mask
    x = np.arange(1.0, 9.0)
    out, cache = dropout_forward(x, 0.5, np.random.default_rng(0))
    kept = out != 0
    np.testing.assert_allclose(out[kept], 2.0 * x[kept], rtol=1e-15)
    np.testing.assert_allclose(dropout_backward(np.ones(8), cache), 2.0 * kept, rtol=1e-15)
    assert 0 < kept.sum() < 8


def test_dropout_keeps_the_expected_value():
    rng = np.random.default_rng(1)
    x = np.ones(200_000)
    for p in (0.1, 0.5, 0.9):
        out, _ = dropout_forward(x, p, rng)
        frac_kept = float(np.mean(out != 0))
        # binomial: 5 standard deviations of the kept fraction
        assert abs(frac_kept - (1 - p)) < 5 * math.sqrt(p * (1 - p) / x.size)
        assert abs(out.mean() - 1.0) < 5 * math.sqrt(p / (1 - p) / x.size)
        np.testing.assert_allclose(np.unique(out), [0.0, 1.0 / (1.0 - p)], rtol=1e-15)


def test_kept_scale_matches_torch(torch):
    x = np.ones(1000)
    for p in (0.2, 0.75):
        t = torch.nn.functional.dropout(torch.tensor(x), p=p, training=True).numpy()
        ours, _ = dropout_forward(x, p, np.random.default_rng(0))
        np.testing.assert_allclose(np.unique(ours), np.unique(t), rtol=1e-12)
    # p = 1 and eval mode, as torch
    np.testing.assert_array_equal(dropout_forward(x, 1.0, None)[0],
                                  torch.nn.functional.dropout(torch.tensor(x), p=1.0, training=True).numpy())
    np.testing.assert_array_equal(dropout_forward(x, 0.5, None, train=False)[0],
                                  torch.nn.functional.dropout(torch.tensor(x), p=0.5, training=False).numpy())


def test_identity_when_not_training_or_p_zero():
    x = np.random.default_rng(2).normal(size=(3, 4))
    for out, cache in (dropout_forward(x, 0.5, np.random.default_rng(0), train=False),
                       dropout_forward(x, 0.0, np.random.default_rng(0)), dropout_forward(x, 0.7, None, train=False)):
        assert out is x
        dout = np.full((3, 4), 3.0)
        np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_p_one_drops_everything_without_warnings():
    x = np.random.default_rng(3).normal(size=(4, 5)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = dropout_forward(x, 1.0, np.random.default_rng(0))
        dx = dropout_backward(np.ones_like(x), cache)
    assert out.dtype == np.float32 and not out.any() and not dx.any()


def test_seeded_masks_repeat_and_ignore_dtype_and_global_state():
    x = np.random.default_rng(4).normal(size=(6, 7))
    state = np.random.get_state()[1].copy()
    a, _ = dropout_forward(x, 0.3, np.random.default_rng(42))
    b, _ = dropout_forward(x, 0.3, np.random.default_rng(42))
    c, _ = dropout_forward(x.astype(np.float32), 0.3, np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a != 0, c != 0)
    assert c.dtype == np.float32
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # the global seed is never touched


@SETTINGS
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple), p=st.sampled_from([0.0, 0.2, 0.5, 0.9]),
       seed=st.integers(0, 2**16))
def test_dropout_backward_matches_numerical_gradient(shape, p, seed):
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(size=shape), rng.normal(size=shape)
    _, cache = dropout_forward(x, p, np.random.default_rng(seed))
    # the same seed gives the same mask, so f is a fixed linear function of x
    num = numerical_gradient(lambda v: float(np.sum(dropout_forward(v, p, np.random.default_rng(seed))[0] * dout)),
                             x.copy())
    np.testing.assert_allclose(dropout_backward(dout, cache), num, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- L2 weight decay
def test_l2_by_hand():
    assert l2_penalty(np.array([3.0, 4.0]), weight_decay=0.1) == pytest.approx(1.25, rel=1e-15)  # 0.05 * 25
    assert l2_penalty([np.array([3.0, 4.0]), np.ones((2, 2))], 0.1) == pytest.approx(0.05 * 29, rel=1e-15)
    assert l2_penalty([np.ones(3)], 0.0) == 0.0
    assert type(l2_penalty(np.ones(2), 0.5)) is float
    np.testing.assert_allclose(l2_penalty_grad(np.array([3.0, 4.0]), 0.1), [0.3, 0.4], rtol=1e-15)
    grads = l2_penalty_grad([np.ones(2), np.full((2, 2), 2.0)], 0.5)
    assert isinstance(grads, list)
    np.testing.assert_allclose(grads[1], np.ones((2, 2)), rtol=1e-15)


def test_l2_gradient_matches_numerical():
    w = np.random.default_rng(5).normal(size=(3, 4))
    num = numerical_gradient(lambda v: l2_penalty(v, 0.3), w)
    np.testing.assert_allclose(l2_penalty_grad(w, 0.3), num, rtol=1e-7, atol=1e-10)


def test_l2_gradient_is_what_torch_weight_decay_adds(torch):
    rng = np.random.default_rng(6)
    w, g = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    lam, lr = 0.05, 0.1
    tw = torch.tensor(w, requires_grad=True)
    opt = torch.optim.SGD([tw], lr=lr, weight_decay=lam)
    tw.grad = torch.tensor(g)
    opt.step()
    np.testing.assert_allclose(w - lr * (g + l2_penalty_grad(w, lam)), tw.detach().numpy(), rtol=1e-12)
    # and autograd of the penalty itself
    tw = torch.tensor(w, requires_grad=True)
    (lam / 2 * (tw ** 2).sum()).backward()
    np.testing.assert_allclose(l2_penalty_grad(w, lam), tw.grad.numpy(), rtol=1e-12)
    assert l2_penalty(w, lam) == pytest.approx(float(lam / 2 * (torch.tensor(w) ** 2).sum()), rel=1e-12)


def test_l2_keeps_float32():
    assert l2_penalty_grad(np.ones(3, np.float32), 0.1).dtype == np.float32


# --------------------------------------------------------------------------- EarlyStopping
def test_early_stopping_by_hand():
    es = EarlyStopping(patience=2)
    decisions = [es.step(v) for v in [1.0, 0.5, 0.6, 0.7]]
    assert decisions == [False, False, False, True]
    assert (es.best, es.best_epoch, es.num_bad_epochs, es.should_stop) == (0.5, 1, 2, True)


def test_improvement_resets_the_count():
    es = EarlyStopping(patience=3)
    decisions = [es.step(v) for v in [1.0, 1.1, 1.2, 0.9, 1.0, 1.0, 1.0]]
    assert decisions == [False, False, False, False, False, False, True]
    assert es.best == 0.9 and es.best_epoch == 3


def test_min_delta_requires_a_real_improvement():
    es = EarlyStopping(patience=2, min_delta=0.1)
    assert [es.step(v) for v in [1.0, 0.95, 0.92]] == [False, False, True]  # neither is < 1.0 - 0.1
    assert es.best == 1.0 and es.best_epoch == 0
    es = EarlyStopping(patience=2, min_delta=0.1)
    assert [es.step(v) for v in [1.0, 0.89, 0.85, 0.7]] == [False, False, False, False]
    assert es.best == 0.7 and es.best_epoch == 3


def test_equal_loss_is_not_an_improvement_and_nan_is_bad():
    es = EarlyStopping(patience=1)
    assert es.step(1.0) is False
    assert es.step(1.0) is True
    es = EarlyStopping(patience=2)
    assert [es.step(v) for v in [1.0, float("nan"), float("nan")]] == [False, False, True]
    assert es.best == 1.0


def test_stop_is_sticky_until_reset():
    es = EarlyStopping(patience=1)
    es.step(1.0)
    assert es.step(2.0) is True
    assert es.step(0.1) is True and es.should_stop  # once told to stop, it stays stopped
    assert es.best == 0.1
    es.reset()
    assert (es.best, es.best_epoch, es.num_bad_epochs, es.should_stop) == (math.inf, -1, 0, False)
    assert es.step(np.float32(3.0)) is False and es.best == 3.0


@pytest.mark.parametrize("call, pattern", [
    (lambda: dropout_forward(np.ones(3), 1.5, np.random.default_rng(0)),
     r"dropout_forward: p \(the drop probability\) must be a number in \[0, 1\], got 1.5"),
    (lambda: dropout_forward(np.ones(3), -0.1, np.random.default_rng(0)), r"dropout_forward: p .* got -0.1"),
    (lambda: dropout_forward(np.ones(3), 0.5, np.random.RandomState(0)),
     r"dropout_forward: rng must be a numpy.random.Generator .* got RandomState"),
    (lambda: dropout_forward(np.ones(3), 0.5, None), r"dropout_forward: rng must be a numpy.random.Generator when train=True"),
    (lambda: dropout_forward(np.ones(3), 0.5, np.random.default_rng(0), train="yes"),
     r"dropout_forward: train must be True or False, got 'yes'"),
    (lambda: dropout_backward(np.ones(4), dropout_forward(np.ones(3), 0.5, np.random.default_rng(0))[1]),
     r"dropout_backward: dout and mask must have the same shape, got \(4,\) and \(3,\)"),
    (lambda: l2_penalty(np.ones(3), -0.1), r"l2_penalty: weight_decay must be >= 0, got -0.1"),
    (lambda: l2_penalty_grad(np.ones(3), "0.1"), r"l2_penalty_grad: weight_decay must be a number >= 0, got '0.1'"),
    (lambda: l2_penalty([np.ones(2), np.array(["a"])], 0.1), r"l2_penalty: weights\[1\] must hold numbers"),
    (lambda: EarlyStopping(patience=0), r"EarlyStopping: patience must be an int >= 1 .* got 0"),
    (lambda: EarlyStopping(patience=2.5), r"EarlyStopping: patience must be an int >= 1 .* got 2.5"),
    (lambda: EarlyStopping(patience=2, min_delta=-0.1), r"EarlyStopping: min_delta must be a number >= 0, got -0.1"),
    (lambda: EarlyStopping(patience=2).step("low"), r"EarlyStopping.step: val_loss must be a number, got 'low'"),
])
def test_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
