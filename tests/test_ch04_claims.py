"""Chapter 4's claims as numbers: step size vs curvature, step decay, saddles, momentum forms,
Nesterov, Adagrad's accumulator, RMSprop, Adam's bias correction (claims C6–C12)."""
import numpy as np
import pytest

from dlcore import optim
from dlcore.chapters import ch04
from dlcore.surfaces import Quadratic, run_optimizer


@pytest.mark.parametrize("L", [0.5, 4.0, 20.0])
def test_c6_step_above_two_over_L_diverges_far_below_crawls(L):
    bowl = Quadratic(a=L, b=L, name="round")
    N = 50
    x = lambda lr: run_optimizer(bowl, "sgd", start=(1.0, 0.0), steps=N, lr=lr)[:, 0]  # noqa: E731
    above = x(1.05 * 2 / L)
    assert abs(above[-1]) > 10 * abs(above[0])          # diverges: |1 − lr·L| = 1.1 > 1
    assert abs(above[-1]) == pytest.approx(1.1 ** N, rel=1e-9)
    osc = x(0.95 * 2 / L)                                 # between 1/L and 2/L: sign flips, shrinks
    assert np.all(np.sign(osc[1:11]) == (-1.0) ** np.arange(1, 11))
    assert abs(osc[-1]) < abs(osc[0])
    crawl = x(0.01 * 2 / L)                               # far below: not converged after N steps
    assert np.all(np.diff(crawl) < 0) and crawl[-1] > 0.3
    assert abs(x(1.0 / L)[1]) < 1e-12                     # lr = 1/L jumps to the minimum in one step


def test_c7_step_decay_schedule_and_its_effect():
    opt = optim.SGD([np.zeros(2)], lr=0.5)
    sched = optim.StepLR(opt, step_size=15, gamma=0.3)
    lrs = []
    for _ in range(60):
        lrs.append(opt.lr)
        sched.step()
    np.testing.assert_allclose(lrs, [0.5 * 0.3 ** (e // 15) for e in range(60)], rtol=1e-12)
    const = [ch04.noisy_quadratic_losses(0.5, rng=np.random.default_rng(s))[-1] for s in range(10)]
    decay = [ch04.noisy_quadratic_losses(0.5, step_size=15, gamma=0.3, rng=np.random.default_rng(s))[-1]
             for s in range(10)]
    assert np.mean(decay) < 0.1 * np.mean(const)
    # the noise floor of a constant lr falls with lr, and the decay ends below every one of them
    floors = [np.mean([ch04.noisy_quadratic_losses(lr, rng=np.random.default_rng(s))[-1] for s in range(10)])
              for lr in (0.5, 0.15, 0.045)]
    assert floors[0] > floors[1] > floors[2] > np.mean(decay)
    assert floors == pytest.approx([0.43, 0.077, 0.025], abs=0.005)
    first_epoch = [np.mean([ch04.noisy_quadratic_losses(lr, rng=np.random.default_rng(s))[1] for s in range(10)])
                   for lr in (0.5, 0.045)]
    assert first_epoch == pytest.approx([0.27, 4.2], abs=0.05)  # a small lr is slow to get there


@pytest.mark.parametrize("lr", [0.01, 0.05])
def test_c8_plain_gd_stays_stuck_on_the_saddle_longer_than_momentum(lr):
    start = (-1.5, 1e-3)  # near the ridge y = 0
    sgd = ch04.escape_step("saddle", "sgd", start=start, steps=3000, lr=lr)
    mom = ch04.escape_step("saddle", "momentum", start=start, steps=3000, lr=lr, momentum=0.9)
    assert sgd is not None and mom is not None
    assert sgd > 2 * mom
    # exactly on the ridge plain GD never leaves: it converges to the saddle point
    traj = run_optimizer("saddle", "sgd", start=(-1.5, 0.0), steps=2000, lr=lr)
    assert np.all(traj[:, 1] == 0) and abs(traj[-1, 0]) < 1e-6
    # the plateau-and-saddle surface: the same story, more so
    sgd_p = ch04.escape_step("plateau_saddle", "sgd", start=(1.5, 1e-3), steps=3000, lr=lr, below=-0.5)
    mom_p = ch04.escape_step("plateau_saddle", "momentum", start=(1.5, 1e-3), steps=3000, lr=lr,
                             momentum=0.9, below=-0.5)
    assert sgd_p > 5 * mom_p


def test_momentum_notes_form_equals_torch_form():
    notes, torch_form = ch04.momentum_forms("ill_conditioned", lr=0.05, momentum=0.9, steps=200)
    np.testing.assert_allclose(notes, torch_form, rtol=0, atol=1e-12)
    notes, torch_form = ch04.momentum_forms("rosenbrock", lr=1e-3, momentum=0.8, steps=200)
    np.testing.assert_allclose(notes, torch_form, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lr,mu", [(0.1, 0.8), (0.1, 0.9), (0.2, 0.9), (0.05, 0.95), (0.3, 0.95)])
def test_c9_nesterov_reaches_tolerance_no_later_than_momentum(lr, mu):
    mom = ch04.steps_to_tolerance("ill_conditioned", "momentum", 1e-3, steps=3000, lr=lr, momentum=mu)
    nes = ch04.steps_to_tolerance("ill_conditioned", "nesterov", 1e-3, steps=3000, lr=lr, momentum=mu)
    assert nes is not None and mom is not None
    assert nes <= mom


def test_c10_adagrad_accumulator_never_decreases_and_step_shrinks():
    h = ch04.optimizer_state_history("ill_conditioned", optim.Adagrad, 300, lr=0.1)
    assert np.all(np.diff(h["r"], axis=0) >= 0)
    eff = h["effective_lr"]
    assert np.all(np.diff(eff, axis=0) <= 0)
    assert np.all(eff[-1] < 0.2 * eff[0])
    h2 = ch04.optimizer_state_history("rosenbrock", optim.Adagrad, 300, lr=0.05)
    assert np.all(np.diff(h2["r"], axis=0) >= 0)


def test_c11_rmsprop_effective_step_does_not_collapse():
    ada = ch04.optimizer_state_history("ill_conditioned", optim.Adagrad, 300, lr=0.1)
    rms = ch04.optimizer_state_history("ill_conditioned", optim.RMSprop, 300, lr=0.1, alpha=0.9)
    assert np.any(np.diff(rms["r"], axis=0) < 0)           # the average forgets
    assert np.all(rms["effective_lr"][-1] >= rms["effective_lr"][0])
    assert np.all(rms["effective_lr"][-1] > 10 * ada["effective_lr"][-1])


@pytest.mark.parametrize("lr", [1e-3, 0.01, 0.3])
def test_c12_adam_first_step_is_lr_in_every_coordinate(lr):
    g = np.array([1e-4, -3e-2, 1.0, -50.0, 1e3, 7e5])
    first = ch04.adam_first_steps(g, lr=lr)
    np.testing.assert_allclose(first["corrected"], -lr * np.sign(g), rtol=2e-4)
    # without the correction the step would be (1 − β1)/√(1 − β2) ≈ 3.16 times larger
    np.testing.assert_allclose(np.abs(first["uncorrected"]), lr * 0.1 / np.sqrt(0.001), rtol=5e-3)


@pytest.mark.parametrize("lr", [0.1, 0.2])
def test_c9_with_small_momentum_nesterov_and_momentum_are_within_a_few_steps(lr):
    mom = ch04.steps_to_tolerance("ill_conditioned", "momentum", 1e-3, steps=3000, lr=lr, momentum=0.5)
    nes = ch04.steps_to_tolerance("ill_conditioned", "nesterov", 1e-3, steps=3000, lr=lr, momentum=0.5)
    assert 0 < nes - mom <= 5          # "within a few steps; here Nesterov is the slightly slower one"


def test_adagrad_is_last_at_the_bowl_default_and_good_at_a_large_lr():
    """Section 6: 'good' only where SGD fails; at the explorer's bowl default it ends last."""
    at_default = ch04.gap_table("ill_conditioned", ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"),
                                lr=0.1, checkpoints=(100,))
    assert max(at_default, key=lambda k: at_default[k][0]) == "adagrad"
    assert at_default["adagrad"][0] == pytest.approx(1.39, abs=0.01)
    assert at_default["sgd"][0] == pytest.approx(0.036, abs=0.001)
    big = ch04.gap_table("ill_conditioned", ("sgd", "adagrad"), lr=0.5, checkpoints=(100, 300))
    assert np.all(big["sgd"] >= 8.0 - 1e-9)            # lr = 2/L: bounces across y for ever
    assert big["adagrad"][0] < 1e-3


def test_adagrad_preset_good_early_overtaken_late():
    """Section 6's table: Rosenbrock at lr 0.5 — Adagrad leads at steps 5, 10, 20, Adam from step 100."""
    p = ch04.ADAGRAD_PRESET
    gaps = ch04.gap_table(p["surface"], ("sgd", "momentum", "adagrad", "rmsprop", "adam"), lr=p["lr"],
                          checkpoints=(5, 10, 20, 100, 300, 1000))
    assert np.all(np.isnan(gaps["sgd"])) and np.all(np.isnan(gaps["momentum"]))  # both diverge at this lr
    for i in (0, 1, 2):
        assert gaps["adagrad"][i] < gaps["adam"][i] and gaps["adagrad"][i] < gaps["rmsprop"][i]
    for i in (3, 4, 5):
        assert gaps["adam"][i] < gaps["adagrad"][i]
    assert gaps["adagrad"][-1] > 1e10 * gaps["adam"][-1]
    # "Adam overtakes it for good after step 22 (at step 1000: f − f* = 0.13 against 2·10⁻¹³)"
    every = ch04.gap_table(p["surface"], ("adagrad", "adam"), lr=p["lr"], checkpoints=tuple(range(1, 1001)))
    assert int(np.flatnonzero(every["adam"] >= every["adagrad"])[-1]) + 1 == 22
    assert round(float(every["adagrad"][-1]), 2) == 0.13 and round(float(every["adam"][-1]), 13) == 2e-13
    h = ch04.optimizer_state_history("rosenbrock", optim.Adagrad, 1000, lr=0.5)
    assert np.all(np.diff(h["effective_lr"], axis=0) <= 0)                # its step only shrinks
    assert h["effective_lr"][[0, -1], 0] == pytest.approx([0.0023, 0.0014], abs=5e-5)


def test_rmsprop_effective_step_climbs_then_bursts():
    """Section 7's explanation: the step climbs to ~55 at step 138, x jumps out to ~0.2, r refills."""
    h = ch04.optimizer_state_history("ill_conditioned", optim.RMSprop, 200, lr=0.1, alpha=0.9)
    eff, r, x = h["effective_lr"][:, 0], h["r"][:, 0], np.abs(h["w"][:, 0])
    k = int(np.argmax(eff))
    assert k + 1 == 138 and eff[k] == pytest.approx(55, abs=1)
    assert eff[k] * 0.2 > 2                                   # past the 2/L limit along x
    assert int(np.argmin(x[:139])) == 105 and x[105] < 1e-19     # closest to the minimum
    assert 0.15 < x[139] < 0.3                                  # the burst back out
    assert r[k + 2] > 20 * r[k]                               # r refills


def test_nesterov_and_momentum_cross_1e6_where_the_text_says():
    d = {name: run_optimizer("ill_conditioned", name, steps=150, lr=0.1, momentum=0.9) for name in ("momentum", "nesterov")}
    bowl = Quadratic()
    first = {k: int(np.flatnonzero(bowl.f(t[:, 0], t[:, 1]) < 1e-6)[0]) for k, t in d.items()}
    assert first == {"momentum": 107, "nesterov": 85}
    assert ch04.gap_table("ill_conditioned", ("sgd",), 0.1, checkpoints=(150,))["sgd"][0] == pytest.approx(0.005, abs=0.0005)


def test_progress_is_the_gap_on_bowls_and_abs_y_on_the_saddle():
    traj = run_optimizer("saddle", "sgd", start=(-1.5, 0.01), steps=80, lr=0.05)
    values, label = ch04.progress("saddle", traj)
    np.testing.assert_array_equal(values[np.isfinite(values)], np.abs(traj[np.isfinite(traj[:, 1]), 1]))
    assert label == "|y|"
    assert np.all(values[np.isfinite(values)] > 0)                # a log axis can show every step
    traj = run_optimizer("plateau_saddle", "rmsprop", steps=300, lr=0.01)
    values, label = ch04.progress("plateau_saddle", traj)
    assert label == "f − f*" and values.min() >= 1e-16             # rounding below f* stays on the axis
