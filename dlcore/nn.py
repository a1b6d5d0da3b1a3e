"""Layer objects and ``Sequential``, built on the forward/backward pairs (chapters 6 to 8).

Each layer wraps one pair from :mod:`dlcore.linear`, :mod:`dlcore.conv`, :mod:`dlcore.pooling`,
:mod:`dlcore.batchnorm`, :mod:`dlcore.regularization` or :mod:`dlcore.activations`; it keeps the
forward's cache and never re-implements the maths. The interface mirrors ``torch.nn``:

* ``forward(x)`` (also ``layer(x)``) and ``backward(dout) -> dx``;
* ``parameters()`` and ``grads()``: lists of arrays in the same order. Optimizers update the
  parameter arrays in place, so the lists stay valid for the life of the layer;
* ``train()`` / ``eval()`` (dropout and batch norm behave differently), ``zero_grad()``.

One difference from PyTorch: ``backward`` **overwrites** the gradients with those of the last
batch instead of adding to them, so forgetting ``zero_grad()`` cannot double a step.

Weights start as PyTorch's defaults do (``kaiming_uniform_(a=√5)``): weights and biases drawn
from U(−1/√fan_in, 1/√fan_in), fan_in = in_features or C·KH·KW, from the ``rng`` you pass.
"""
from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np

from dlcore import activations as _act
from dlcore import batchnorm as _bn
from dlcore import linear as _linear
from dlcore._checks import as_rng as _rng

__all__ = ["Module", "Linear", "Conv2d", "ReLU", "Sigmoid", "MaxPool2d", "AvgPool2d",
           "BatchNorm1d", "BatchNorm2d", "Dropout", "Flatten", "Sequential"]


def _positive_int(fn: str, name: str, v) -> int:
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{fn}: {name} must be an int >= 1, got {v!r}")
    return int(v)


# The conv, pooling and dropout modules are imported on first use: they are siblings written
# alongside this file, and a late import keeps `import dlcore.nn` cheap.
def _conv():
    from dlcore import conv
    return conv


def _pool():
    from dlcore import pooling
    return pooling


def _reg():
    from dlcore import regularization
    return regularization


class Module:
    """Base layer: no parameters, identity ``train``/``eval`` bookkeeping."""

    training = True

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def parameters(self) -> list[np.ndarray]:
        return []

    def grads(self) -> list[np.ndarray]:
        return []

    def buffers(self) -> list[np.ndarray]:
        """State that is not trained but is part of the model (batch norm's running statistics)."""
        return []

    def train(self, mode: bool = True) -> "Module":
        self.training = bool(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for g in self.grads():
            g[...] = 0

    def num_parameters(self) -> int:
        return int(sum(p.size for p in self.parameters()))

    def state(self) -> list[np.ndarray]:
        """Copies of the parameters and buffers (for :meth:`load_state`, e.g. best weights)."""
        return [a.copy() for a in self.parameters() + self.buffers()]

    def load_state(self, state: Sequence[np.ndarray]) -> None:
        """Copy a :meth:`state` back into the parameters and buffers, in place."""
        targets = self.parameters() + self.buffers()
        if len(state) != len(targets):
            raise ValueError(f"{type(self).__name__}.load_state: state has {len(state)} arrays, "
                             f"the model has {len(targets)}")
        for i, (t, s) in enumerate(zip(targets, state)):
            if np.shape(s) != t.shape:
                raise ValueError(f"{type(self).__name__}.load_state: state[{i}] has shape "
                                 f"{np.shape(s)}, expected {t.shape}")
            t[...] = s

    def _need_cache(self):
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise ValueError(f"{type(self).__name__}.backward: call forward first")
        return cache

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class _Affine(Module):
    """Shared by Linear and Conv2d: a weight, an optional bias, and their gradients."""

    def _init_params(self, wshape, fan_in, bias, rng, dtype):
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = rng.uniform(-bound, bound, size=wshape).astype(dtype)
        self.bias = rng.uniform(-bound, bound, size=wshape[0]).astype(dtype) if bias else None
        self.dweight = np.zeros_like(self.weight)
        self.dbias = None if self.bias is None else np.zeros_like(self.bias)
        self._cache = None

    def parameters(self):
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def grads(self):
        return [self.dweight] if self.bias is None else [self.dweight, self.dbias]

    def _store(self, dw, db):
        self.dweight[...] = dw
        if self.bias is not None:
            self.dbias[...] = db


class Linear(_Affine):
    """Fully connected layer, out = x @ weight.T + bias. x: (N, in_features) -> (N, out_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, rng,
                 dtype=np.float64):
        fn = "Linear"
        self.in_features = _positive_int(fn, "in_features", in_features)
        self.out_features = _positive_int(fn, "out_features", out_features)
        self._init_params((self.out_features, self.in_features), self.in_features, bias,
                          _rng(fn, rng), dtype)

    def forward(self, x):
        out, self._cache = _linear.linear_forward(x, self.weight, self.bias)
        return out

    def backward(self, dout):
        dx, dw, db = _linear.linear_backward(dout, self._need_cache())
        self._store(dw, db)
        return dx

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Conv2d(_Affine):
    """2-D convolution (cross-correlation). x: (N, C, H, W) -> (N, F, H', W'); weight (F, C, KH, KW)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, *, rng, dtype=np.float64):
        fn = "Conv2d"
        self.in_channels = _positive_int(fn, "in_channels", in_channels)
        self.out_channels = _positive_int(fn, "out_channels", out_channels)
        kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else tuple(kernel_size)
        self.kernel_size = (_positive_int(fn, "kernel_size", kh), _positive_int(fn, "kernel_size", kw))
        self.stride, self.padding = stride, padding
        self._init_params((self.out_channels, self.in_channels) + self.kernel_size,
                          self.in_channels * kh * kw, bias, _rng(fn, rng), dtype)

    def forward(self, x):
        out, self._cache = _conv().conv2d_forward(x, self.weight, self.bias, stride=self.stride,
                                                  padding=self.padding)
        return out

    def backward(self, dout):
        dx, dw, db = _conv().conv2d_backward(dout, self._need_cache())
        self._store(dw, db)
        return dx

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class ReLU(Module):
    """out = max(x, 0), elementwise."""

    def forward(self, x):
        out, self._cache = _act.relu_forward(x)
        return out

    def backward(self, dout):
        return _act.relu_backward(dout, self._need_cache())


class Sigmoid(Module):
    """out = 1 / (1 + exp(−x)), elementwise."""

    def forward(self, x):
        out, self._cache = _act.sigmoid_forward(x)
        return out

    def backward(self, dout):
        return _act.sigmoid_backward(dout, self._need_cache())


class _Pool2d(Module):
    _name = ""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x):
        out, self._cache = getattr(_pool(), f"{self._name}_forward")(x, self.kernel_size, self.stride)
        return out

    def backward(self, dout):
        return getattr(_pool(), f"{self._name}_backward")(dout, self._need_cache())

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """Max over each KH×KW window (stride defaults to the kernel size). (N, C, H, W) -> (N, C, H', W')."""

    _name = "max_pool2d"


class AvgPool2d(_Pool2d):
    """Mean over each KH×KW window (stride defaults to the kernel size). (N, C, H, W) -> (N, C, H', W')."""

    _name = "avg_pool2d"


class _BatchNorm(Module):
    _ndim = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, *,
                 dtype=np.float64):
        fn = type(self).__name__
        self.num_features = _positive_int(fn, "num_features", num_features)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{fn}: momentum must lie in [0, 1], got {momentum!r}")
        self.eps, self.momentum = float(eps), float(momentum)
        self.weight = np.ones(num_features, dtype=dtype)    # gamma
        self.bias = np.zeros(num_features, dtype=dtype)     # beta
        self.dweight = np.zeros_like(self.weight)
        self.dbias = np.zeros_like(self.bias)
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self.num_batches_tracked = 0
        self._cache = None

    def parameters(self):
        return [self.weight, self.bias]

    def grads(self):
        return [self.dweight, self.dbias]

    def buffers(self):
        return [self.running_mean, self.running_var]

    def _check(self, x):
        x = np.asarray(x)
        if x.ndim != self._ndim:
            want = "(N, C)" if self._ndim == 2 else "(N, C, H, W)"
            raise ValueError(f"{type(self).__name__}.forward: x must be {want}, got shape {x.shape}")

    def forward(self, x):
        self._check(x)
        if self.training:
            out, cache = _bn.batch_norm_forward(x, self.weight, self.bias, eps=self.eps)
            rm, rv = _bn.update_running_stats(self.running_mean, self.running_var, cache,
                                              momentum=self.momentum)
            self.running_mean[...] = rm
            self.running_var[...] = rv
            self.num_batches_tracked += 1
            self._cache = ("train", cache)
            return out
        out = _bn.batch_norm_eval(x, self.running_mean, self.running_var, self.weight, self.bias,
                                  eps=self.eps)
        # Eval mode is an affine map per channel; keep what its backward needs.
        inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
        self._cache = ("eval", (np.asarray(x), self.running_mean.copy(), inv_std))
        return out

    def backward(self, dout):
        mode, cache = self._need_cache()
        if mode == "train":
            dx, dgamma, dbeta = _bn.batch_norm_backward(dout, cache)
        else:
            x, mean, inv_std = cache
            dout = np.asarray(dout)
            shape = (1, -1) + (1,) * (x.ndim - 2)
            axes = (0,) if x.ndim == 2 else (0, 2, 3)
            x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
            dx = (dout * (self.weight * inv_std).reshape(shape)).astype(x.dtype, copy=False)
            dgamma, dbeta = (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)
        self.dweight[...] = dgamma
        self.dbias[...] = dbeta
        return dx

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}"


class BatchNorm1d(_BatchNorm):
    """Batch norm per feature for x: (N, D); running mean/var kept as ``torch.nn.BatchNorm1d``."""

    _ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch norm per channel over (N, H, W) for x: (N, C, H, W); running stats as in PyTorch."""

    _ndim = 4


class Dropout(Module):
    """Inverted dropout: in training zero each unit with probability ``p``, scale the rest by 1/(1−p)."""

    def __init__(self, p: float = 0.5, *, rng):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must lie in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = _rng("Dropout", rng)

    def forward(self, x):
        out, self._cache = _reg().dropout_forward(x, self.p, self.rng, train=self.training)
        return out

    def backward(self, dout):
        return _reg().dropout_backward(dout, self._need_cache())

    def extra_repr(self):
        return f"p={self.p:g}"


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1·d2·…), as ``torch.nn.Flatten()``."""

    def forward(self, x):
        x = np.asarray(x)
        if x.ndim < 1:
            raise ValueError("Flatten.forward: x must have a batch axis, got a 0-D array")
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return np.asarray(dout).reshape(self._need_cache())


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse. ``parameters()`` concatenates."""

    def __init__(self, *layers: Module):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ValueError(f"Sequential: layer {i} must be a dlcore.nn layer, "
                                 f"got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def grads(self):
        return [g for layer in self.layers for g in layer.grads()]

    def buffers(self):
        return [b for layer in self.layers for b in layer.buffers()]

    def train(self, mode: bool = True):
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
