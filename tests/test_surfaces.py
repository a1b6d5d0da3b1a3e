"""dlcore.surfaces: analytic gradients and Hessians, trajectories, the fast path."""
import warnings

import numpy as np
import pytest

from dlcore import optim
from dlcore.gradcheck import numerical_gradient
from dlcore.surfaces import SURFACES, OPTIMIZERS, Quadratic, get_surface, run_optimizer

NAMES = sorted(SURFACES)


def _grid_points(s, n=9):
    x = np.linspace(*s.xlim, n)
    y = np.linspace(*s.ylim, n)
    return np.meshgrid(x, y)


def test_registry_has_the_four_kinds():
    assert {"saddle", "plateau_saddle", "ill_conditioned", "rosenbrock"} <= set(SURFACES)
    for name, s in SURFACES.items():
        assert s.name == name and get_surface(name) is s
        assert len(s.xlim) == len(s.ylim) == len(s.start) == 2
        assert s.xlim[0] <= s.start[0] <= s.xlim[1] and s.ylim[0] <= s.start[1] <= s.ylim[1]


def _numerical(fn, X, Y, h=1e-6):
    """dlcore.gradcheck's central differences of the scalar fn(x, y) at every grid point: (gx, gy)."""
    g = np.array([numerical_gradient(lambda v: fn(v[0], v[1]), np.array([x, y]), h=h)
                  for x, y in zip(X.ravel(), Y.ravel())])
    return g[:, 0].reshape(X.shape), g[:, 1].reshape(X.shape)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    s = SURFACES[name]
    X, Y = _grid_points(s)
    gx, gy = s.grad(X, Y)
    nx, ny = _numerical(s.f, X, Y)
    scale = 1 + np.abs(nx).max() + np.abs(ny).max()
    assert np.abs(gx - nx).max() / scale < 1e-7
    assert np.abs(gy - ny).max() / scale < 1e-7


@pytest.mark.parametrize("name", NAMES)
def test_hessian_matches_differences_of_gradient(name):
    s = SURFACES[name]
    X, Y = _grid_points(s)
    fxx, fxy, fyy = s.hessian(X, Y)
    assert np.shape(fxx) == np.shape(fxy) == np.shape(fyy) == X.shape
    dxx, dxy = _numerical(lambda x, y: s.grad(x, y)[0], X, Y)
    _, dyy = _numerical(lambda x, y: s.grad(x, y)[1], X, Y)
    for a, b in ((fxx, dxx), (fxy, dxy), (fyy, dyy)):
        assert np.abs(a - b).max() / (1 + np.abs(b).max()) < 1e-7


@pytest.mark.parametrize("name", NAMES)
def test_vectorised_over_grids_and_scalars(name):
    s = SURFACES[name]
    X, Y, Z = s.grid(31)
    assert X.shape == Y.shape == Z.shape == (31, 31)
    i, j = 7, 19
    assert Z[i, j] == pytest.approx(s.f(float(X[i, j]), float(Y[i, j])), rel=1e-14)
    gx, gy = s.grad(X, Y)
    assert gx[i, j] == pytest.approx(s.grad(float(X[i, j]), float(Y[i, j]))[0], rel=1e-14, abs=1e-14)


def test_critical_points():
    sad = SURFACES["saddle"]
    assert sad.grad(0.0, 0.0) == (0.0, -0.0)
    assert sad.hessian(0.0, 0.0) == (2.0, 0.0, -2.0)        # one + and one − curvature
    ps = SURFACES["plateau_saddle"]
    assert ps.grad(0.0, 0.0) == (0.0, 0.0)
    assert ps.hessian(0.0, 0.0) == (0.0, 0.0, 0.0)          # flat to second order: a plateau
    for ang in (np.pi, np.pi / 3, -np.pi / 3):             # the three minima at radius 3/2
        x, y = 1.5 * np.cos(ang), 1.5 * np.sin(ang)
        assert ps.f(x, y) == pytest.approx(-27 / 32, rel=1e-12)
        assert np.hypot(*ps.grad(x, y)) < 1e-12
    rb = SURFACES["rosenbrock"]
    assert rb.f(1.0, 1.0) == 0.0 and rb.grad(1.0, 1.0) == (0.0, 0.0)
    q = SURFACES["ill_conditioned"]
    assert q.condition_number == pytest.approx(20.0)
    fxx, _, fyy = q.hessian(1.0, 1.0)
    assert fyy / fxx == pytest.approx(20.0)


@pytest.mark.parametrize("surface", NAMES)
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_fast_path_equals_optimizer_class(surface, opt):
    # Both paths apply the same update function (dlcore.optim.*_update), on floats or on arrays,
    # and math.sqrt and np.sqrt are both correctly rounded: the points agree bit for bit.
    for hyper in (dict(lr=0.01), dict(lr=0.003, weight_decay=0.1)):
        fast = run_optimizer(surface, opt, steps=150, **hyper)
        slow = run_optimizer(surface, opt, steps=150, fast=False, **hyper)
        assert fast.shape == slow.shape == (151, 2)
        np.testing.assert_array_equal(fast, slow)


def test_extra_hyperparameters_and_factories():
    kw = dict(lr=0.02, momentum=0.7, dampening=0.2)
    a = run_optimizer("rosenbrock", "sgd", steps=80, **kw)
    b = run_optimizer("rosenbrock", optim.SGD, steps=80, fast=False, **kw)
    c = run_optimizer("rosenbrock", lambda p: optim.SGD(p, **kw), steps=80)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(a, c, rtol=1e-12)
    a = run_optimizer("saddle", "adam", steps=50, lr=0.05, betas=(0.5, 0.9))
    b = run_optimizer("saddle", optim.Adam, steps=50, fast=False, lr=0.05, betas=(0.5, 0.9))
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_sgd_on_quadratic_closed_form():
    q = Quadratic(a=0.2, b=4.0)
    lr, steps = 0.1, 40
    traj = run_optimizer(q, "sgd", start=(-4.5, 2.0), steps=steps, lr=lr)
    k = np.arange(steps + 1)
    np.testing.assert_allclose(traj[:, 0], -4.5 * (1 - lr * 0.2) ** k, rtol=1e-12)
    np.testing.assert_allclose(traj[:, 1], 2.0 * (1 - lr * 4.0) ** k, rtol=1e-12, atol=1e-300)
    assert tuple(traj[0]) == (-4.5, 2.0)


def test_start_defaults_and_row_zero():
    for name, s in SURFACES.items():
        traj = run_optimizer(name, "adam", steps=5, lr=0.1)
        assert tuple(traj[0]) == tuple(s.start)


def test_divergence_fills_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fast in (True, False):
            traj = run_optimizer("rosenbrock", "sgd", steps=200, lr=0.01, fast=fast)
            bad = ~np.isfinite(traj).all(axis=1) | (np.abs(traj) > 1e6).any(axis=1)
            first = int(np.argmax(bad))
            assert bad.any() and 0 < first < 20
            assert np.isnan(traj[first + 1:]).all()


def test_converging_optimizers_reach_minima():
    traj = run_optimizer("ill_conditioned", "momentum", steps=300, lr=0.1)
    assert np.abs(traj[-1]).max() < 1e-4
    traj = run_optimizer("rosenbrock", "adam", steps=5000, lr=0.02)
    np.testing.assert_allclose(traj[-1], [1.0, 1.0], atol=1e-2)
    ps = SURFACES["plateau_saddle"]
    traj = run_optimizer(ps, "momentum", steps=300, lr=0.02)
    assert ps.f(*traj[-1]) == pytest.approx(-27 / 32, abs=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="run_optimizer: optimizer must be one of"):
        run_optimizer("saddle", "lbfgs")
    with pytest.raises(ValueError, match="SGD needs a learning rate"):
        run_optimizer("saddle", "sgd")
    with pytest.raises(ValueError, match="get_surface: surface must be one of"):
        run_optimizer("bowl", "adam")
    with pytest.raises(ValueError, match="start must be a point"):
        run_optimizer("saddle", "adam", start=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="steps must be an int"):
        run_optimizer("saddle", "adam", steps=-1)


# The cost of the explorer's trajectories is timed in benchmarks/bench_claims.py, not asserted here.
