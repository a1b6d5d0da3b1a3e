"""Chapter 5 claims as numbers (C13 and the chapter's other statements about batch norm)."""
import numpy as np
import pytest
import torch

from dlcore import nn
from dlcore.batchnorm import batch_norm_backward, batch_norm_forward
from dlcore.data import load_digits
from dlcore.chapters.ch05 import deep_stack_activations, train_digits_mlp


def _batch(seed=0, n=64, d=5):
    rng = np.random.default_rng(seed)
    return rng.normal(rng.normal(0, 10, d), rng.uniform(0.1, 5, d), (n, d))


@pytest.mark.parametrize("shape", [(64, 5), (2, 3), (16, 4, 3, 3)])
def test_c13_output_has_mean_0_and_variance_1(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(3.0, 4.0, shape)
    c = shape[1]
    out, _ = batch_norm_forward(x, np.ones(c), np.zeros(c))
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    var = x.var(axis=axes)
    assert np.abs(out.mean(axis=axes)).max() < 1e-12
    # variance is sigma^2 / (sigma^2 + eps): 1 to within eps / sigma^2
    assert np.allclose(out.var(axis=axes), var / (var + 1e-5), rtol=1e-12)
    assert np.abs(out.var(axis=axes) - 1).max() < 1e-5 / var.min() + 1e-12


def test_c13_gamma_beta_restore_the_input():
    x = _batch(1)
    mu, var = x.mean(axis=0), x.var(axis=0)
    out, _ = batch_norm_forward(x, np.sqrt(var + 1e-5), mu)
    assert np.abs(out - x).max() < 1e-12 * np.abs(x).max() + 1e-12


def test_scale_and_shift_set_mean_and_std():
    x = _batch(2, d=3)
    gamma, beta = np.array([2.0, 0.5, -1.0]), np.array([1.0, -1.0, 0.0])
    out, _ = batch_norm_forward(x, gamma, beta)
    assert np.allclose(out.mean(axis=0), beta, atol=1e-12)
    sd = x.std(axis=0)
    assert np.allclose(out.std(axis=0), np.abs(gamma) * sd / np.sqrt(sd ** 2 + 1e-5), rtol=1e-12)


def test_forward_backward_match_torch():
    x = _batch(3, n=10, d=4)
    rng = np.random.default_rng(3)
    g, b, dout = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(10, 4))
    out, cache = batch_norm_forward(x, g, b)
    dx, dg, db = batch_norm_backward(dout, cache)
    tx, tg, tb = (torch.tensor(v, requires_grad=True) for v in (x, g, b))
    tout = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-5)
    tout.backward(torch.tensor(dout))
    for mine, ref in ((out, tout), (dx, tx.grad), (dg, tg.grad), (db, tb.grad)):
        assert np.allclose(mine, ref.detach().numpy(), rtol=1e-6, atol=1e-10)


def test_two_examples_give_x_hat_pm1_and_zero_dx():
    # the hand-worked case of exercise 2
    out, cache = batch_norm_forward(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1), eps=0.0)
    assert np.allclose(out.ravel(), [-1, 1])
    dx, dg, db = batch_norm_backward(np.array([[1.0], [0.0]]), cache)
    assert np.allclose(dx, 0, atol=1e-15) and np.allclose(dg, [-1]) and np.allclose(db, [1])


def test_eval_mode_is_independent_of_the_batch_and_running_mean_converges():
    X, _ = load_digits()
    pixels = X[:, [19, 27, 43]]
    rng = np.random.default_rng(0)
    layer = nn.BatchNorm1d(3)
    for _ in range(150):
        layer.forward(pixels[rng.choice(len(pixels), 32, replace=False)])
    assert np.abs(layer.running_mean - pixels.mean(axis=0)).max() < 0.06
    one, a, b = pixels[:1], np.vstack([pixels[:1], pixels[1:32]]), np.vstack([pixels[:1], pixels[100:131]])
    assert np.abs(layer.forward(a)[0] - layer.forward(b)[0]).max() > 0.05   # training mode: batch-dependent
    layer.eval()
    ea, eb, e1 = layer.forward(a)[0], layer.forward(b)[0], layer.forward(one)[0]
    assert np.allclose(ea, eb, atol=1e-14) and np.allclose(ea, e1, atol=1e-14)
    layer.train()
    with pytest.raises(ValueError):
        layer.forward(one)


def test_bn_keeps_every_layer_at_unit_scale_plain_stack_collapses_or_explodes():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 100))
    w0 = [rng.standard_normal((100, 100)) for _ in range(8)]
    for act, scale, plain_last in (("tanh", 0.3, "small"), ("relu", 3.0, "large")):
        res = deep_stack_activations(x, [scale * w / 10 for w in w0], act)
        assert (res.std_plain[-1] < 1e-3) if plain_last == "small" else (res.std_plain[-1] > 100)
        # with BN the std per layer stays that of f(N(0, 1)): tanh 0.63, relu 0.58
        assert np.ptp(res.std_bn) < 0.05 and 0.5 < res.std_bn.min()


def test_deep_mlp_on_digits_bn_trains_where_plain_does_not():
    plain = train_digits_mlp(False, 0.05, init="default", epochs=10)
    withbn = train_digits_mlp(True, 0.05, init="default", epochs=10)
    assert plain["loss"][-1] > 2.2 and plain["val_acc"] < 0.2          # stuck at chance, ln 10 = 2.30
    assert withbn["loss"][-1] < 0.3 and withbn["val_acc"] > 0.93
    # He init fixes the scale for a small step, but at lr 0.2 only the BN network trains
    he_small = train_digits_mlp(False, 0.01, init="he", epochs=10)
    he_big, he_big_bn = (train_digits_mlp(bn_, 0.2, init="he", epochs=10) for bn_ in (False, True))
    assert he_small["val_acc"] > 0.9
    assert he_big["val_acc"] < 0.3 < 0.9 < he_big_bn["val_acc"]
