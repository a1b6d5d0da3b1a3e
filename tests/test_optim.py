"""dlcore.optim: every optimizer step against torch.optim, closed-form steps, schedules."""
import math

import numpy as np
import pytest
import torch

from dlcore import optim

SHAPES = [(3, 4), (5,), (2, 1, 3)]


def _run_both(make_ours, make_torch, steps=12, seed=0, dtype=np.float64):
    """Apply the same gradient sequence to dlcore and torch; return both parameter lists."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    ours = [w.copy() for w in init]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in init]
    opt, topt = make_ours(ours), make_torch(theirs)
    for g in grads:
        opt.step(g)
        for t, gi in zip(theirs, g):
            t.grad = torch.tensor(gi)
        topt.step()
    return opt, topt, ours, [t.detach().numpy() for t in theirs]


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.02)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.03, momentum=0.5, nesterov=True, weight_decay=0.1)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, eps=1e-6, weight_decay=0.05)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.02, alpha=0.9, eps=1e-6, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.03)),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_optim(name, kw):
    opt, topt, ours, theirs = _run_both(lambda p: getattr(optim, name)(p, **kw),
                                        lambda p: getattr(torch.optim, name)(p, **kw))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert opt.step_count == 12


def test_state_matches_torch_state():
    kw = dict(lr=0.01, weight_decay=0.1)
    opt, topt, _, _ = _run_both(lambda p: optim.Adam(p, **kw), lambda p: torch.optim.Adam(p, **kw))
    for i, p in enumerate(topt.param_groups[0]["params"]):
        st = topt.state[p]
        np.testing.assert_allclose(opt.exp_avg[i], st["exp_avg"].numpy(), rtol=1e-12)
        np.testing.assert_allclose(opt.exp_avg_sq[i], st["exp_avg_sq"].numpy(), rtol=1e-12)
        assert int(st["step"]) == opt.step_count

    kw = dict(lr=0.05, momentum=0.9, dampening=0.1)
    opt, topt, _, _ = _run_both(lambda p: optim.SGD(p, **kw), lambda p: torch.optim.SGD(p, **kw))
    for i, p in enumerate(topt.param_groups[0]["params"]):
        np.testing.assert_allclose(opt.velocity[i], topt.state[p]["momentum_buffer"].numpy(), rtol=1e-12)
    assert opt.momentum_buffer is opt.velocity

    opt, topt, _, _ = _run_both(lambda p: optim.Adagrad(p), lambda p: torch.optim.Adagrad(p))
    for i, p in enumerate(topt.param_groups[0]["params"]):
        np.testing.assert_allclose(opt.sum_sq[i], topt.state[p]["sum"].numpy(), rtol=1e-12)

    opt, topt, _, _ = _run_both(lambda p: optim.RMSprop(p), lambda p: torch.optim.RMSprop(p))
    for i, p in enumerate(topt.param_groups[0]["params"]):
        np.testing.assert_allclose(opt.square_avg[i], topt.state[p]["square_avg"].numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam"])
def test_float32_stays_float32_and_matches_torch(name):
    kw = dict(lr=0.01, weight_decay=0.01) | (dict(momentum=0.9) if name == "SGD" else {})
    opt, _, ours, theirs = _run_both(lambda p: getattr(optim, name)(p, **kw),
                                     lambda p: getattr(torch.optim, name)(p, **kw),
                                     dtype=np.float32)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_params_updated_in_place():
    w = np.ones(3)
    ref = w
    optim.SGD([w], lr=0.5).step([np.ones(3)])
    assert ref is w
    np.testing.assert_allclose(w, 0.5)


# Closed-form steps on f(w) = a/2 · w², gradient a·w.

def test_sgd_on_quadratic_is_geometric():
    a, lr, w0 = 3.0, 0.1, 2.0
    w = np.array([w0])
    opt = optim.SGD([w], lr=lr)
    for k in range(1, 11):
        opt.step([a * w])
        assert w[0] == pytest.approx(w0 * (1 - lr * a) ** k, rel=1e-12)


def test_sgd_weight_decay_is_l2_penalty_gradient():
    # weight_decay λ on f = 0 is the gradient of λ/2 · w²: w_k = (1 − lr·λ)^k w_0.
    lam, lr = 0.5, 0.2
    w = np.array([4.0, -2.0])
    opt = optim.SGD([w], lr=lr, weight_decay=lam)
    for _ in range(5):
        opt.step([np.zeros(2)])
    np.testing.assert_allclose(w, np.array([4.0, -2.0]) * (1 - lr * lam) ** 5, rtol=1e-12)


def test_momentum_first_two_steps_by_hand():
    a, lr, mu, w0 = 2.0, 0.1, 0.9, 1.0
    w = np.array([w0])
    opt = optim.SGD([w], lr=lr, momentum=mu)
    opt.step([a * w])                       # b1 = g0 = 2, w1 = 1 − 0.2 = 0.8
    assert w[0] == pytest.approx(0.8, rel=1e-14)
    assert opt.velocity[0][0] == pytest.approx(2.0, rel=1e-14)
    opt.step([a * w])                       # b2 = 0.9·2 + 1.6 = 3.4, w2 = 0.8 − 0.34 = 0.46
    assert opt.velocity[0][0] == pytest.approx(3.4, rel=1e-14)
    assert w[0] == pytest.approx(0.46, rel=1e-14)


def test_nesterov_first_step_by_hand():
    # b1 = g0 = 2, d = g0 + μ·b1 = 3.8, w1 = 1 − 0.38 = 0.62
    w = np.array([1.0])
    optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True).step([np.array([2.0])])
    assert w[0] == pytest.approx(0.62, rel=1e-14)


def test_notes_momentum_form_equals_torch_form():
    a, lr, mu = np.array([0.2, 4.0]), 0.1, 0.9
    w_torch = np.array([-4.5, 2.0])
    w_notes, v = w_torch.copy(), np.zeros(2)
    opt = optim.SGD([w_torch], lr=lr, momentum=mu)
    for _ in range(30):
        w_notes, v = optim.sgd_momentum_notes_step(w_notes, v, a * w_notes, lr, mu)
        opt.step([a * w_torch])
        np.testing.assert_allclose(w_notes, w_torch, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(v, -lr * opt.velocity[0], rtol=1e-12, atol=1e-15)


def test_adaptive_first_steps_by_hand():
    g = np.array([4.0, -0.01])
    for cls, kw, denom in [
        (optim.Adam, dict(lr=0.1, eps=1e-8), np.abs(g) + 1e-8),
        (optim.Adagrad, dict(lr=0.1, eps=1e-10), np.abs(g) + 1e-10),
        (optim.RMSprop, dict(lr=0.1, alpha=0.99, eps=1e-8), math.sqrt(0.01) * np.abs(g) + 1e-8),
    ]:
        w = np.zeros(2)
        cls([w], **kw).step([g])
        np.testing.assert_allclose(w, -0.1 * g / denom, rtol=1e-12)
    # Adam's and Adagrad's first step is lr·sign(g), whatever the gradient's size.
    w = np.zeros(2)
    optim.Adam([w], lr=0.1).step([g])
    np.testing.assert_allclose(w, [-0.1, 0.1], rtol=1e-5)


def test_adagrad_constant_gradient_steps_shrink_like_inverse_sqrt():
    w = np.array([0.0])
    opt = optim.Adagrad([w], lr=0.5, eps=0.0)
    for _ in range(9):
        opt.step([np.array([3.0])])
    assert w[0] == pytest.approx(-0.5 * sum(1 / math.sqrt(k) for k in range(1, 10)), rel=1e-12)
    assert opt.sum_sq[0][0] == pytest.approx(81.0)


# Schedules

@pytest.mark.parametrize("kind,kw", [("StepLR", dict(step_size=3, gamma=0.5)),
                                     ("StepLR", dict(step_size=1, gamma=0.9)),
                                     ("ExponentialLR", dict(gamma=0.8))])
def test_schedules_match_torch(kind, kw):
    opt = optim.SGD([np.zeros(2)], lr=0.3)
    sched = getattr(optim, kind)(opt, **kw)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.3)
    tsched = getattr(torch.optim.lr_scheduler, kind)(topt, **kw)
    for _ in range(10):
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert opt.lr == topt.param_groups[0]["lr"]
        topt.step()
        sched.step()
        tsched.step()


def test_step_lr_closed_form_and_lr_used_by_step():
    w = np.array([0.0])
    opt = optim.SGD([w], lr=1.0)
    sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(6):
        lrs.append(opt.lr)
        opt.step([np.array([-1.0])])
        sched.step()
    np.testing.assert_allclose(lrs, [1, 1, 0.1, 0.1, 0.01, 0.01], rtol=1e-12)
    assert w[0] == pytest.approx(2.22, rel=1e-12)


def test_errors_name_function_and_argument():
    w = np.zeros(3)
    with pytest.raises(ValueError, match="SGD: nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="SGD: lr"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="list of arrays"):
        optim.Adam(w)
    with pytest.raises(ValueError, match=r"Adam.step: grads\[0\] has shape \(2,\)"):
        optim.Adam([w]).step([np.zeros(2)])
    with pytest.raises(ValueError, match="Adagrad.step: grads has 2 arrays"):
        optim.Adagrad([w]).step([w, w])
    with pytest.raises(ValueError, match="params\\[0\\] must be a float"):
        optim.RMSprop([np.zeros(3, dtype=int)])
    with pytest.raises(ValueError, match="StepLR: step_size"):
        optim.StepLR(optim.SGD([w], lr=0.1), step_size=0)
