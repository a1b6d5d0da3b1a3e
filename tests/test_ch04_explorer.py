"""Chapter 4 optimizer explorer driven headless: trajectories are dlcore's, and move with the sliders."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.explorers.ch04 import OPTIMIZER_STYLE, SURFACE_LR, hyper_for, optimizer_explorer, run_name  # noqa: E402
from dlcore.chapters import ch04 as ch04_chapter  # noqa: E402
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
        np.testing.assert_allclose(loss, ch04_chapter.progress(surf, traj)[0], rtol=1e-12)
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
    assert ex.numbers["diverged_sgd"] == 1.0 or ex.numbers["final_gap_sgd"] > 1e3
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


def test_saddle_reports_escape_not_divergence():
    """At the default (saddle, lr 0.05) every optimizer escapes; none is 'diverged' on a surface unbounded below."""
    e = optimizer_explorer()
    assert e.params["surface"] == "saddle" and get_surface("saddle").minimum is None
    assert not [k for k in e.numbers if k.startswith("diverged")]
    esc = {k: e.numbers[f"escaped_at_{k}"] for k in KEYS}
    assert all(v > 0 for v in esc.values()), esc
    assert esc["momentum"] < esc["sgd"] / 2 and esc["nesterov"] < esc["sgd"] / 2
    assert esc == {k: ch04_chapter.escape_step("saddle", run_name(k, 0.9), start=(-1.5, 0.01), steps=100,
                                               **hyper_for(k, 0.05)) for k in KEYS}
    text = " ".join(v for _, v in e.summary_rows())
    assert "escaped the saddle at step 19" in text and "diverged" not in text
    # starting exactly on the ridge, nothing escapes along y for SGD: the read-out says so
    e.update(y0=0.0, show_rmsprop=False, show_adam=False, show_adagrad=False)
    assert e.numbers["escaped_at_sgd"] == -1.0
    assert "still near the saddle" in dict(e.summary_rows())[next(lab for lab, _ in e.summary_rows() if "SGD" in lab)]


def test_saddle_divergence_is_only_a_blow_up_before_any_escape():
    """Escaping (f < −1) and then leaving the plane is not divergence; blowing up along x, where f
    curves up, before ever escaping is (SGD on x² needs lr < 1). It was read out as 'still near
    the saddle … |y| = 6·10⁵'."""
    e = optimizer_explorer()
    e.update(lr=10 ** 0.5, y0=0.01, steps=300)                     # the lr slider's right end
    rows = dict(e.summary_rows())
    sgd, mom = (next(v for lab, v in rows.items() if f">{name}<" in lab) for name in ("SGD", "Momentum"))
    assert e.numbers["diverged_sgd"] == 1.0 and e.numbers["escaped_at_sgd"] == -1.0
    assert "diverged</span> at step 10 without escaping" in sgd and "still near" not in sgd
    assert "diverged_momentum" not in e.numbers and e.numbers["escaped_at_momentum"] == 9.0
    assert mom.startswith("escaped the saddle at step 9") and "diverged" not in mom
    for lr in (1e-4, 0.01, 0.05, 0.2, 0.5, 0.99):                   # SGD along x is stable below lr = 1
        e.update(lr=lr, show_momentum=False, show_nesterov=False)
        assert "diverged_sgd" not in e.numbers, lr
    e.update(lr=0.05, y0=-3.0, show_momentum=True, show_nesterov=True)   # f(−1.5, −3) = −6.75 already
    assert all(v.startswith("started below the saddle") for _, v in e.summary_rows())
    assert not [k for k in e.numbers if k.startswith("diverged")]


def test_loss_panel_is_log_of_the_gap_or_of_abs_y_never_symlog():
    e = optimizer_explorer()
    for surface in SURFACE_LR:
        e.update(surface=surface)
        assert e.ax_l.get_yscale() == "log"
        for key in KEYS:
            traj = _expected(e.params, key)
            values, label = ch04_chapter.progress(surface, traj)
            np.testing.assert_allclose(np.asarray(e.losses[key].get_data()[1]), values, rtol=1e-12)
            assert np.nanmin(values) > 0
        assert e.ax_l.get_ylabel().startswith("|y|" if surface == "saddle" else "f − f*")
        lo, hi = e.ax_l.get_ylim()
        assert 0 < lo < hi
    # on the bowl the table's ordering is visible: Nesterov's final gap is below momentum's on the axis
    e.update(surface="ill_conditioned", steps=150)
    assert e.numbers["final_gap_nesterov"] < e.numbers["final_gap_momentum"] / 5
    assert e.ax_l.get_ylim()[0] < e.numbers["final_gap_nesterov"]


def test_controls_say_mu_and_read_out_is_labelled():
    e = optimizer_explorer()
    e.widget
    assert e.controls["momentum"].description == "momentum μ"
    assert "α" in e.controls["beta2"].description and "β₂" in e.controls["beta2"].description
    html = e.readout.value
    import re
    assert not re.search(r"\b[a-z_]+_[a-z]+ = ", html)     # no raw name = value pairs
    assert "escaped the saddle at step" in html and "dl-num" in html
    e.update(surface="ill_conditioned", lr=0.55)
    assert "diverged" in e.readout.value and e.numbers["diverged_sgd"] == 1.0


def test_step_decay_figure_plots_the_ten_seed_means_the_text_compares():
    from dlcore.explorers.ch04 import mean_noisy_losses, plot_step_decay

    fig = plot_step_decay(lrs=(0.5, 0.15, 0.045), step_size=15, gamma=0.3, seeds=10)
    ax_loss = fig.axes[1]
    lines = ax_loss.get_lines()
    assert len(lines) == 4                                     # three constant lrs and StepLR
    for line, (lr, ss) in zip(lines, [(0.5, None), (0.15, None), (0.045, None), (0.5, 15)]):
        np.testing.assert_allclose(line.get_ydata(), mean_noisy_losses(lr, 10, step_size=ss, gamma=0.3), rtol=1e-12)
    assert [t.get_text() for t in ax_loss.get_legend().get_texts()][:3] == [
        "constant lr = 0.5", "constant lr = 0.15", "constant lr = 0.045"]


@pytest.mark.parametrize("surface,runs", [
    ("saddle", {"SGD": ("sgd", {"lr": 0.01}), "Momentum 0.9": ("momentum", {"lr": 0.01, "momentum": 0.9})}),
    ("ill_conditioned", {"Momentum": ("momentum", {"lr": 0.1, "momentum": 0.9}),
                         "Nesterov": ("nesterov", {"lr": 0.1, "momentum": 0.9})}),
])
def test_static_trajectory_figures_plot_progress_on_a_log_axis(surface, runs):
    from dlcore.explorers.ch04 import plot_trajectories

    fig = plot_trajectories(surface, runs, steps=150, start=(-1.5, 1e-3) if surface == "saddle" else None)
    ax_c, ax_l = fig.axes[:2]
    assert ax_l.get_yscale() == "log"
    for line, (name, hyper) in zip(ax_l.get_lines(), runs.values()):
        traj = run_optimizer(surface, name, start=(-1.5, 1e-3) if surface == "saddle" else None, steps=150, **hyper)
        np.testing.assert_allclose(line.get_ydata(), ch04_chapter.progress(surface, traj)[0], rtol=1e-12)
    assert ax_c.texts, "the contours carry value labels"
    if surface == "ill_conditioned":   # momentum and Nesterov stay apart on the axis (they did not on symlog)
        m, n = (np.asarray(line.get_ydata()) for line in ax_l.get_lines())
        assert n[120] < m[120] / 10
