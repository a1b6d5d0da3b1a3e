"""Batch normalisation, forward and backward in training mode (taught in chapter 5).

Per feature (x of shape (N, D)) or per channel (x of shape (N, C, H, W), statistics over
N, H, W), as ``torch.nn.functional.batch_norm(..., training=True)``:

    mu = mean(x),  var = mean((x - mu)^2)          (biased variance, M values per channel)
    x_hat = (x - mu) / sqrt(var + eps),  out = gamma * x_hat + beta

The backward collapses the chain rule through mu and var into one line,

    dx = gamma / sqrt(var + eps) * (dout - mean(dout) - x_hat * mean(dout * x_hat)),

so forward and backward each read and write the array only a handful of times. Inference
uses running statistics instead (:func:`batch_norm_eval`), which :func:`update_running_stats`
keeps the way ``torch.nn.BatchNorm*`` does.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore._checks import as_float_array, check_ndim, check_positive


class BatchNormCache(NamedTuple):
    x_centered: np.ndarray  # x - mean, shape of x (x_hat without the last pass over the array)
    gamma: np.ndarray       # (C,)
    inv_std: np.ndarray     # 1 / sqrt(var + eps), (C,), dtype of x
    mean: np.ndarray        # batch mean, (C,)
    var: np.ndarray         # biased batch variance, (C,)
    count: int              # M = values per channel (N, or N*H*W)
    beta_dtype: np.dtype

    @property
    def x_hat(self) -> np.ndarray:
        """The normalised input (x - mean) / sqrt(var + eps), shape of x (computed on request)."""
        return self.x_centered * _per_channel(self.inv_std, self.x_centered.ndim)


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (C,) vector to broadcast against x: (1, C) or (1, C, 1, 1)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _rows(a: np.ndarray) -> np.ndarray:
    """x as (N, C*H*W) (or (N, D)): each row holds every channel's values, channel after channel.

    A per-channel vector repeated H*W times (:func:`_expand`) then broadcasts over the N rows
    only, so every element-wise pass runs over long contiguous rows instead of H*W-long pieces.
    """
    return a.reshape(a.shape[0], -1)


def _expand(v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A (C,) vector as one row of :func:`_rows` (each value repeated H*W times)."""
    return np.repeat(v, a[0, 0].size) if a.ndim == 4 else v


def _channel_sum(a: np.ndarray) -> np.ndarray:
    # Over the N rows first (contiguous adds of whole rows), then the H*W values of each
    # channel in one short pairwise sum: no long running sum, so float32 stays accurate.
    # (No BLAS here: its threads would only fight the element-wise passes for the cores.)
    if a.ndim == 2:
        return a.sum(axis=0)
    return _rows(a).sum(axis=0).reshape(a.shape[1], -1).sum(axis=1)


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum of a * b per channel, without materialising the product."""
    if a.ndim == 2:
        return np.einsum("nd,nd->d", a, b)
    n, c = a.shape[:2]
    return np.einsum("nci,nci->c", a.reshape(n, c, -1), b.reshape(n, c, -1))


def _check_x(fn: str, x) -> np.ndarray:
    x = as_float_array(fn, "x", x)
    check_ndim(fn, "x", x, (2, 4), "(N, D) or (N, C, H, W)")
    return x


def _check_vector(fn: str, name: str, v, c: int, x: np.ndarray) -> np.ndarray:
    v = as_float_array(fn, name, v)
    if v.shape != (c,):
        what = "features" if x.ndim == 2 else "channels"
        raise ValueError(f"{fn}: {name} must have shape ({c},) for x of shape {tuple(x.shape)} "
                         f"({c} {what}), got {tuple(v.shape)}")
    return v


def batch_norm_forward(x, gamma, beta, eps: float = 1e-5) -> tuple[np.ndarray, BatchNormCache]:
    """Batch norm with batch statistics: out = gamma * (x - mu) / sqrt(var + eps) + beta.

    x: (N, D) or (N, C, H, W); gamma, beta: (D,) or (C,). out: shape and dtype of x.
    The cache carries the batch ``mean`` and biased ``var`` for :func:`update_running_stats`.

    >>> out, _ = batch_norm_forward(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1), eps=0.0)
    >>> out.ravel().tolist()
    [-1.0, 1.0]
    """
    fn = "batch_norm_forward"
    x = _check_x(fn, x)
    c = x.shape[1]
    gamma = _check_vector(fn, "gamma", gamma, c, x)
    beta = _check_vector(fn, "beta", beta, c, x)
    check_positive(fn, "eps", eps, allow_zero=True)
    m = x.size // c if c else 0
    if m < 2:
        # torch refuses too: the variance of one value is 0 and x_hat would be 0/0 or all zeros.
        raise ValueError(f"{fn}: expected more than 1 value per channel in training mode, "
                         f"got x of shape {tuple(x.shape)}")
    dt = x.dtype
    # Two passes for the statistics (mean, then the centred sum of squares) so that a large
    # offset does not cancel the variance away, as E[x^2] - mean^2 would.
    mean = _channel_sum(x) / m
    xc = np.subtract(_rows(x), _expand(mean.astype(dt, copy=False), x)).reshape(x.shape)
    var = _channel_dot(xc, xc) / m
    inv_std = (1.0 / np.sqrt(var + eps)).astype(dt, copy=False)
    out = np.multiply(_rows(xc), _expand(gamma.astype(dt, copy=False) * inv_std, x))
    out += _expand(beta.astype(dt, copy=False), x)
    out = out.reshape(x.shape)
    return out, BatchNormCache(xc, gamma, inv_std, mean, var, m, beta.dtype)


def batch_norm_backward(dout, cache: BatchNormCache):
    """Gradients of :func:`batch_norm_forward` in training mode.

    dbeta  = sum dout                    (over N, or N, H, W)
    dgamma = sum dout * x_hat            with x_hat = (x - mean) * inv_std
    dx     = gamma * inv_std / M * (M * dout - dbeta - x_hat * dgamma)

    Returns (dx, dgamma, dbeta): dx has x's shape and dtype, dgamma/dbeta are (C,).
    """
    fn = "batch_norm_backward"
    xc, inv_std = cache.x_centered, cache.inv_std
    dout = as_float_array(fn, "dout", dout)
    if dout.shape != xc.shape:
        raise ValueError(f"{fn}: dout must have the shape of x {tuple(xc.shape)}, got {tuple(dout.shape)}")
    dt, nd, m = xc.dtype, xc.ndim, cache.count
    if dout.dtype != dt:
        dout = dout.astype(dt)
    dbeta = _channel_sum(dout)
    dgamma = _channel_dot(dout, xc) * inv_std
    scale = cache.gamma.astype(dt, copy=False) * inv_std      # gamma / sqrt(var + eps)
    # dx = scale * (dout - dbeta/M - x_hat * dgamma/M), built in one buffer: the arrays are
    # large, and allocating a temporary costs as much as a pass over it.
    dx = np.multiply(_rows(xc), _expand(-dgamma * inv_std / m, xc))
    dx += _rows(dout)
    dx -= _expand(dbeta / m, xc)
    dx *= _expand(scale, xc)
    dx = dx.reshape(xc.shape)
    return dx, dgamma.astype(cache.gamma.dtype, copy=False), dbeta.astype(cache.beta_dtype, copy=False)


def batch_norm_eval(x, running_mean, running_var, gamma, beta, eps: float = 1e-5) -> np.ndarray:
    """Batch norm in evaluation mode: out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta.

    x: (N, D) or (N, C, H, W); the four vectors: (D,) or (C,). Any N, including 1.
    Its gradient is dx = dout * gamma / sqrt(running_var + eps) (the statistics are constants).
    """
    fn = "batch_norm_eval"
    x = _check_x(fn, x)
    c = x.shape[1]
    rm = _check_vector(fn, "running_mean", running_mean, c, x)
    rv = _check_vector(fn, "running_var", running_var, c, x)
    gamma = _check_vector(fn, "gamma", gamma, c, x)
    beta = _check_vector(fn, "beta", beta, c, x)
    check_positive(fn, "eps", eps, allow_zero=True)
    if (rv < 0).any():
        raise ValueError(f"{fn}: running_var must be >= 0, got {float(rv[rv < 0][0])!r}")
    scale = gamma / np.sqrt(rv + eps)
    shift = beta - rm * scale
    dt = x.dtype
    out = x * _per_channel(scale.astype(dt, copy=False), x.ndim)
    out += _per_channel(shift.astype(dt, copy=False), x.ndim)
    return out


def update_running_stats(running_mean, running_var, cache: BatchNormCache, momentum: float = 0.1):
    """Running statistics after one training batch, as ``torch.nn.BatchNorm*`` keeps them.

    running_mean <- (1 - momentum) * running_mean + momentum * mean
    running_var  <- (1 - momentum) * running_var  + momentum * var * M / (M - 1)

    (PyTorch normalises with the biased variance but records the unbiased one.) Returns new
    (running_mean, running_var) arrays in the running arrays' dtypes; the inputs are not changed.
    """
    fn = "update_running_stats"
    rm = as_float_array(fn, "running_mean", running_mean)
    rv = as_float_array(fn, "running_var", running_var)
    c = cache.mean.shape[0]
    for name, v in (("running_mean", rm), ("running_var", rv)):
        if v.shape != (c,):
            raise ValueError(f"{fn}: {name} must have shape ({c},) to match the batch, got {tuple(v.shape)}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"{fn}: momentum must lie in [0, 1], got {momentum!r}")
    m = cache.count
    new_mean = (1 - momentum) * rm + momentum * cache.mean.astype(np.float64)
    new_var = (1 - momentum) * rv + momentum * cache.var.astype(np.float64) * (m / (m - 1))
    return new_mean.astype(rm.dtype, copy=False), new_var.astype(rv.dtype, copy=False)
