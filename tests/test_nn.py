"""dlcore.nn: layers against torch.nn, Sequential against numerical gradients, running stats."""
import math

import numpy as np
import pytest
import torch

from dlcore import nn
from dlcore.gradcheck import numerical_gradient

torch.set_default_dtype(torch.float64)


def _t(a, grad=True):
    return torch.tensor(np.array(a), requires_grad=grad)


def _copy_into(tmod, weight, bias):
    with torch.no_grad():
        tmod.weight.copy_(torch.tensor(weight))
        if bias is not None:
            tmod.bias.copy_(torch.tensor(bias))


def _check_against_torch(layer, tmod, x, rtol=1e-10):
    """Forward and backward (dx and parameter grads) of a dlcore layer vs a torch module."""
    rng = np.random.default_rng(5)
    tmod.zero_grad(set_to_none=True)   # torch accumulates; dlcore overwrites
    out = layer.forward(x)
    xt = _t(x)
    ot = tmod(xt)
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=rtol, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    ot.backward(torch.tensor(dout))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=rtol, atol=1e-12)
    tparams = [p for p in tmod.parameters()]
    assert len(tparams) == len(layer.parameters()) == len(layer.grads())
    for g, tp in zip(layer.grads(), tparams):
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(bias):
    rng = np.random.default_rng(0)
    layer = nn.Linear(7, 4, bias=bias, rng=rng)
    tmod = torch.nn.Linear(7, 4, bias=bias)
    _copy_into(tmod, layer.weight, layer.bias)
    _check_against_torch(layer, tmod, rng.standard_normal((5, 7)))


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_conv2d_matches_torch(stride, padding):
    rng = np.random.default_rng(1)
    layer = nn.Conv2d(3, 4, 3, stride=stride, padding=padding, rng=rng)
    tmod = torch.nn.Conv2d(3, 4, 3, stride=stride, padding=padding)
    _copy_into(tmod, layer.weight, layer.bias)
    _check_against_torch(layer, tmod, rng.standard_normal((2, 3, 7, 6)))


@pytest.mark.parametrize("cls,tcls,kw", [
    (nn.MaxPool2d, torch.nn.MaxPool2d, dict(kernel_size=2)),
    (nn.MaxPool2d, torch.nn.MaxPool2d, dict(kernel_size=3, stride=2)),
    (nn.AvgPool2d, torch.nn.AvgPool2d, dict(kernel_size=2)),
    (nn.AvgPool2d, torch.nn.AvgPool2d, dict(kernel_size=3, stride=1)),
])
def test_pooling_matches_torch(cls, tcls, kw):
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 8))
    _check_against_torch(cls(**kw), tcls(**kw), x)


@pytest.mark.parametrize("cls,tcls", [(nn.ReLU, torch.nn.ReLU), (nn.Sigmoid, torch.nn.Sigmoid),
                                      (nn.Flatten, torch.nn.Flatten)])
def test_parameter_free_layers_match_torch(cls, tcls):
    x = np.random.default_rng(3).standard_normal((4, 2, 3, 3))
    _check_against_torch(cls(), tcls(), x)


@pytest.mark.parametrize("cls,tcls,shape", [(nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 5)),
                                            (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 6))])
def test_batchnorm_train_eval_and_running_stats_match_torch(cls, tcls, shape):
    rng = np.random.default_rng(4)
    c = shape[1]
    layer, tmod = cls(c, momentum=0.2), tcls(c, momentum=0.2)
    gamma, beta = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    for a, b in ((layer.weight, gamma), (layer.bias, beta)):
        a[...] = b
    _copy_into(tmod, gamma, beta)
    for k in range(3):
        x = 3 * rng.standard_normal(shape) + k
        _check_against_torch(layer, tmod, x)
        np.testing.assert_allclose(layer.running_mean, tmod.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(layer.running_var, tmod.running_var.numpy(), rtol=1e-12)
    assert layer.num_batches_tracked == int(tmod.num_batches_tracked) == 3
    layer.eval()
    tmod.eval()
    _check_against_torch(layer, tmod, rng.standard_normal(shape))  # running statistics, any N


def test_batchnorm_running_stats_by_hand():
    bn = nn.BatchNorm1d(1)                      # momentum 0.1, running mean 0, var 1
    bn.forward(np.array([[1.0], [3.0]]))        # batch mean 2, unbiased var 2
    assert bn.running_mean[0] == pytest.approx(0.9 * 0 + 0.1 * 2)
    assert bn.running_var[0] == pytest.approx(0.9 * 1 + 0.1 * 2)
    assert bn.buffers() == [bn.running_mean, bn.running_var]


def test_dropout_layer():
    x = np.ones((200, 50))
    d = nn.Dropout(0.3, rng=np.random.default_rng(0))
    out = d.forward(x)
    assert set(np.unique(out)) <= {0.0, 1 / 0.7}
    assert abs((out == 0).mean() - 0.3) < 0.01
    dx = d.backward(np.full_like(x, 2.0))
    np.testing.assert_array_equal(dx, 2 * out)
    d.eval()
    np.testing.assert_array_equal(d.forward(x), x)
    # same seed, same mask
    a = nn.Dropout(0.5, rng=np.random.default_rng(9)).forward(x)
    b = nn.Dropout(0.5, rng=np.random.default_rng(9)).forward(x)
    np.testing.assert_array_equal(a, b)


def test_default_init_is_torch_kaiming_uniform():
    rng = np.random.default_rng(0)
    lin = nn.Linear(400, 300, rng=rng)
    bound = 1 / math.sqrt(400)
    assert np.abs(lin.weight).max() <= bound and np.abs(lin.bias).max() <= bound
    assert lin.weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    tl = torch.nn.Linear(400, 300)            # the same law: compare the spread
    assert tl.weight.detach().numpy().std() == pytest.approx(lin.weight.std(), rel=0.03)
    conv = nn.Conv2d(16, 32, 3, rng=rng)
    cb = 1 / math.sqrt(16 * 9)
    assert np.abs(conv.weight).max() <= cb and conv.weight.std() == pytest.approx(cb / math.sqrt(3), rel=0.05)
    a, b = nn.Linear(5, 3, rng=np.random.default_rng(7)), nn.Linear(5, 3, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight, b.weight)


def _small_net(rng, dtype=np.float64):
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, rng=rng, dtype=dtype),
        nn.BatchNorm2d(3, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 2, rng=rng, dtype=dtype),
        nn.AvgPool2d(2, stride=1),
        nn.Flatten(),
        nn.Linear(4, 5, rng=rng, dtype=dtype),
        nn.Sigmoid(),
        nn.Linear(5, 3, rng=rng, dtype=dtype),
    )


def test_sequential_backward_equals_numerical_gradient():
    rng = np.random.default_rng(11)
    net = _small_net(rng)
    x = rng.standard_normal((3, 2, 6, 6))
    proj = rng.standard_normal((3, 3))

    def loss():
        return float(np.sum(net.forward(x) * proj))

    net.forward(x)
    dx = net.backward(proj)
    assert dx.shape == x.shape
    xr = x.copy()

    def loss_x(xx):
        return float(np.sum(net.forward(xx) * proj))

    num_dx = numerical_gradient(loss_x, xr)
    np.testing.assert_allclose(dx, num_dx, rtol=1e-5, atol=1e-7)
    grads = [g.copy() for g in net.grads()]
    for p, g in zip(net.parameters(), grads):
        num = numerical_gradient(lambda _: loss(), p)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


def test_sequential_bookkeeping():
    rng = np.random.default_rng(12)
    net = _small_net(rng)
    params, grads = net.parameters(), net.grads()
    assert len(params) == len(grads) == 10
    assert all(p.shape == g.shape for p, g in zip(params, grads))
    assert net.num_parameters() == sum(p.size for p in params)
    x = rng.standard_normal((4, 2, 6, 6))
    net.forward(x)
    net.backward(np.ones((4, 3)))
    assert all(g is h for g, h in zip(grads, net.grads()))   # the lists stay valid
    assert any(np.abs(g).max() > 0 for g in grads)
    net.zero_grad()
    assert all(np.abs(g).max() == 0 for g in grads)
    net.eval()
    assert all(not layer.training for layer in net)
    net.train()
    assert all(layer.training for layer in net)
    state = net.state()
    for p in params:
        p += 1.0
    net.load_state(state)
    for p, s in zip(net.parameters() + net.buffers(), state):
        np.testing.assert_array_equal(p, s)
    assert "Conv2d(2, 3" in repr(net)


def test_backward_overwrites_not_accumulates():
    rng = np.random.default_rng(13)
    lin = nn.Linear(3, 2, rng=rng)
    x = rng.standard_normal((4, 3))
    lin.forward(x)
    lin.backward(np.ones((4, 2)))
    first = lin.dweight.copy()
    lin.forward(x)
    lin.backward(np.ones((4, 2)))
    np.testing.assert_array_equal(lin.dweight, first)


def test_float32_model_stays_float32():
    rng = np.random.default_rng(14)
    net = _small_net(rng, dtype=np.float32)
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    out = net.forward(x)
    assert out.dtype == np.float32
    dx = net.backward(np.ones_like(out))
    assert dx.dtype == np.float32
    assert all(p.dtype == np.float32 for p in net.parameters() + net.grads())


def test_errors():
    with pytest.raises(ValueError, match="Linear.backward: call forward first"):
        nn.Linear(2, 2, rng=np.random.default_rng(0)).backward(np.ones((1, 2)))
    with pytest.raises(ValueError, match="Linear: rng must be"):
        nn.Linear(2, 2, rng=None)
    with pytest.raises(ValueError, match="Sequential: layer 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(ValueError, match=r"BatchNorm2d.forward: x must be \(N, C, H, W\)"):
        nn.BatchNorm2d(3).forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match="Dropout: p"):
        nn.Dropout(1.5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="linear_forward"):
        nn.Linear(3, 2, rng=np.random.default_rng(0)).forward(np.ones((2, 4)))
