"""Chapter 4 optimizer explorer driven headless: trajectories are dlcore's, and move with the sliders."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.explorers.ch04 import OPTIMIZER_STYLE, SURFACE_LR, hyper_for, optimizer_explorer, run_name  # noqa: E402
from dlcore.surfaces import get_surface, run_optimizer  # noqa: E402

KEYS = [key for _, key, _ in OPTIMIZER_STYLE]


@pytest.fixture(scope="module")
def ex():
    return optimizer_explorer()


def _expected(p, key):
    hyper = hyper_for(key, p["lr"], p["momentum"], p["beta1"], p["beta2"])
    return run_optimizer(p["surface"], run_name(key, p["momentum"]), start=(p["x0"], p["y0"]), steps=p["steps"], **hyper)


def _assert_lines_match_dlcore(ex):
    surf = get_surface(ex.params["surface"])
    for key in KEYS:
        traj = _expected(ex.params, key)
        xd, yd = ex.paths[key].get_data()
        np.testing.assert_array_equal(np.asarray(xd), traj[:, 0])
        np.testing.assert_array_equal(np.asarray(yd), traj[:, 1])
        loss = np.asarray(ex.losses[key].get_data()[1])
        np.testing.assert_allclose(loss, surf.f(traj[:, 0], traj[:, 1]), rtol=1e-12)
        last = traj[np.isfinite(traj[:, 0])][-1]
        assert ex.numbers[f"final_loss_{key}"] == pytest.approx(float(surf.f(*last)), rel=1e-12)


@pytest.mark.parametrize("surface", list(SURFACE_LR))
def test_each_surface_draws_dlcore_trajectories(ex, surface):
    ex.update(surface=surface)
    surf = get_surface(surface)
    assert (ex.params["x0"], ex.params["y0"]) == surf.start and ex.params["lr"] == SURFACE_LR[surface]
    for name, cs in ex.contours.items():
        assert cs.get_visible() == (name == surface)
    assert ex.ax_c.get_xlim() == surf.xlim
    _assert_lines_match_dlcore(ex)


def test_learning_rate_moves_the_trajectories(ex):
    ex.update(surface="ill_conditioned", steps=60)
    ex.update(lr=0.05)
    a = {k: np.array(ex.paths[k].get_data()) for k in KEYS}
    ex.update(lr=0.3)
    b = {k: np.array(ex.paths[k].get_data()) for k in KEYS}
    for k in KEYS:
        assert not np.allclose(a[k], b[k]), k
    _assert_lines_match_dlcore(ex)
    # plain GD on curvature 4: lr = 0.3 is below 2/4, lr = 0.55 above it
    ex.update(lr=0.55)
    assert ex.numbers["diverged_sgd"] == 1.0 or ex.numbers["final_loss_sgd"] > 1e3
    ex.update(lr=0.3)
    assert ex.numbers["diverged_sgd"] == 0.0 and ex.numbers["final_loss_sgd"] < 1.0


@pytest.mark.parametrize("change", [{"momentum": 0.5}, {"momentum": 0.0}, {"beta1": 0.5}, {"beta2": 0.9}, {"x0": 2.0, "y0": -1.0},
                                    {"steps": 17}])
def test_each_slider_recomputes(ex, change):
    ex.update(surface="rosenbrock", lr=0.002, momentum=0.9, beta1=0.9, beta2=0.999, x0=-1.2, y0=1.0, steps=80)
    before = {k: np.array(ex.paths[k].get_data()) for k in KEYS}
    ex.update(**change)
    _assert_lines_match_dlcore(ex)
    affected = {"momentum": {"momentum", "nesterov"}, "beta1": {"adam"}, "beta2": {"adam", "rmsprop"}}
    for k in KEYS:
        after = np.array(ex.paths[k].get_data())
        moved = before[k].shape != after.shape or not np.allclose(before[k], after)
        name = next(iter(change))
        assert moved == (k in affected.get(name, set(KEYS))), (change, k)


def test_toggles_show_together_or_singly(ex):
    ex.update(surface="saddle", **{f"show_{k}": False for k in KEYS if k != "adam"})
    assert [k for k in KEYS if ex.paths[k].get_visible()] == ["adam"]
    assert set(k for k in ex.numbers if k.startswith("final_loss")) == {"final_loss_adam"}
    ex.update(**{f"show_{k}": True for k in KEYS})
    assert all(ex.paths[k].get_visible() and ex.losses[k].get_visible() for k in KEYS)


def test_controls_have_classes_and_drive_update():
    e = optimizer_explorer(surface="plateau_saddle")
    assert e.params["lr"] == SURFACE_LR["plateau_saddle"]
    e.widget
    for name, c in e.controls.items():
        assert f"dl-ctl-{name}" in c._dom_classes and c.description
    e.controls["lr"].value = 0.01
    assert e.params["lr"] == pytest.approx(0.01)
    _assert_lines_match_dlcore(e)
    e.controls["surface"].value = "saddle"
    assert e.controls["x0"].value == get_surface("saddle").start[0]


def test_zero_momentum_is_plain_sgd(ex):
    ex.update(surface="ill_conditioned", momentum=0.0, steps=40)
    sgd = np.array(ex.paths["sgd"].get_data())
    for k in ("momentum", "nesterov"):
        np.testing.assert_array_equal(np.array(ex.paths[k].get_data()), sgd)
    ex.update(momentum=0.9)


def test_student_overlay_follows_the_students_steps():
    from dlcore.explorers.ch04 import student_trajectory

    def adam_step(w, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        t = state.get("step", 0) + 1
        m = beta1 * state.get("exp_avg", 0) + (1 - beta1) * g
        v = beta2 * state.get("exp_avg_sq", 0) + (1 - beta2) * g * g
        w_new = w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        return w_new, {"step": t, "exp_avg": m, "exp_avg_sq": v}

    def adagrad_no_sqrt(w, g, state, lr, eps=1e-10):  # a typical slip: divides by r, not √r
        r = state.get("sum_sq", 0) + g * g
        return w - lr * g / (r + eps), {"sum_sq": r}

    def unfinished(w, g, state, lr, momentum):
        raise NotImplementedError()

    e = optimizer_explorer(surface="ill_conditioned", steps=50,
                           student_fn={"adam": adam_step, "adagrad": adagrad_no_sqrt, "momentum": unfinished})
    np.testing.assert_allclose(np.array(e.student_paths["adam"].get_data()), np.array(e.paths["adam"].get_data()),
                               atol=1e-12)
    assert e.numbers["student_max_diff_adam"] < 1e-12
    assert e.numbers["student_max_diff_adagrad"] > 1e-2
    assert e.numbers["student_failed_momentum"] == 1.0 and not e.student_paths["momentum"].get_visible()
    assert "NotImplementedError" in e.student_note.get_text()
    e.update(lr=0.3)
    traj, err = student_trajectory(adam_step, "adam", get_surface("ill_conditioned"), (e.params["x0"], e.params["y0"]),
                                   50, e.params)
    assert err is None
    np.testing.assert_array_equal(np.array(e.student_paths["adam"].get_data()), traj.T)
    e.update(show_adam=False)
    assert not e.student_paths["adam"].get_visible() and "student_max_diff_adam" not in e.numbers
    with pytest.raises(ValueError, match="student_fn"):
        optimizer_explorer(student_fn={"sgd": adam_step})
