"""Chapter 6 explorer driven headless: curves, early-stopping marks and gap follow the cache."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.explorers import ch06  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return ch06.overfitting_explorer()


@pytest.fixture(scope="module")
def sweep():
    return ch06.load_overfitting_sweep()


@pytest.mark.parametrize("params", [dict(n_train=100, weight_decay=0.0, dropout=0.0, early_stopping=True, patience=10),
                                    dict(n_train=800, weight_decay=1e-2, dropout=0.2, early_stopping=True, patience=3),
                                    dict(n_train=50, weight_decay=0.003, dropout=0.6, early_stopping=False, patience=3)])
def test_curves_marks_and_numbers_follow_the_cache(ex, sweep, params):
    ex.update(**params)
    h = ch06.cached_history(sweep, params["n_train"], params["weight_decay"], params["dropout"])
    summ = ch06.gap_summary(h, params["patience"] if params["early_stopping"] else None)
    base = ch06.gap_summary(ch06.cached_history(sweep, params["n_train"], 0.0, 0.0))
    assert np.array_equal(ex.l_train.get_ydata(), h.train_loss)
    assert np.array_equal(ex.l_val.get_ydata(), h.val_loss)
    assert ex.v_best.get_xdata()[0] == summ["best_epoch"] and ex.v_stop.get_xdata()[0] == summ["stop_epoch"]
    for key in ("best_epoch", "stop_epoch", "train_loss", "val_loss", "gap", "train_acc", "val_acc"):
        assert ex.numbers[key] == pytest.approx(summ[key], rel=1e-12), key
    assert ex.numbers["gap_no_regularisation"] == pytest.approx(base["gap"], rel=1e-12)
    assert ex.gap_bars[0].get_height() == pytest.approx(base["gap"]) and ex.gap_bars[1].get_height() == pytest.approx(summ["gap"])
    if not params["early_stopping"]:
        assert ex.numbers["best_epoch"] == ex.numbers["stop_epoch"] == len(h.val_loss)


def test_patience_moves_the_stop_line_in_place(ex):
    ex.update(n_train=100, weight_decay=0.0, dropout=0.0, early_stopping=True, patience=1)
    line, lines = ex.v_stop, list(ex.ax.lines)
    assert (ex.numbers["best_epoch"], ex.numbers["stop_epoch"]) == (4, 5)
    ex.update(patience=10)
    assert (ex.numbers["best_epoch"], ex.numbers["stop_epoch"]) == (39, 49)
    assert ex.v_stop is line and list(ex.ax.lines) == lines
    # early stopping keeps epoch 39: a smaller gap than the run's last epoch
    assert ex.numbers["gap"] < ex.numbers["gap_no_regularisation"]


def test_regularisers_shrink_the_gap_shown(ex):
    ex.update(n_train=100, weight_decay=0.0, dropout=0.0, early_stopping=False)
    none = ex.numbers["gap"]
    ex.update(weight_decay=1e-2)
    assert ex.numbers["gap"] < none
    ex.update(weight_decay=0.0, dropout=0.4)
    assert ex.numbers["gap"] < none


def test_recompute_live_matches_the_cache():
    e = ch06.overfitting_explorer(n_train=50, weight_decay=0.03, dropout=0.2)
    diff = e.recompute_live()
    assert diff < 1e-6 and e.numbers["live_max_abs_diff"] == diff
    assert np.allclose(e.l_live_val.get_ydata(), e.state["hist"].val_loss, atol=1e-6)
    e.update(patience=5)                             # a new setting clears the live overlay
    assert len(e.l_live_val.get_ydata()) == 0


def test_student_rule_is_marked_and_controls_exist():
    def student_rule(val_losses, patience):
        return ch06.early_stopping_point(val_losses, patience)

    e = ch06.overfitting_explorer(student_fn=student_rule, patience=7)
    assert e.v_student.get_xdata()[0] == e.numbers["stop_epoch"]
    e.widget
    assert set(e.controls) == {"n_train", "weight_decay", "dropout", "early_stopping", "patience", "recompute"}
    for name, c in e.controls.items():
        assert c.description
        assert f"dl-ctl-{name}" in c._dom_classes
    e.controls["n_train"].value = 400                # a control drives update()
    assert e.params["n_train"] == 400
    h = ch06.cached_history(ch06.load_overfitting_sweep(), 400, 0.0, 0.0)
    assert np.array_equal(e.l_val.get_ydata(), h.val_loss)


def test_a_setting_off_the_grid_is_refused(ex):
    with pytest.raises(ValueError, match="weight_decay"):
        ex.update(weight_decay=0.5)
    ex.update(weight_decay=0.0)


def test_weight_histogram_spans_every_weight_without_clipped_spikes(sweep):
    """The histogram used to clip at the 99.5th percentile, piling the tails into the end bins
    (a false spike at ±0.28): the bars drawn must be the unclipped density of every weight."""
    from dlcore.explorers.ch06 import plot_weight_histograms

    weights = {f"λ = {float(sweep['weight_decays'][j]):g}": sweep["w1_final"][j] for j in (0, 3, 4)}
    fig = plot_weight_histograms(weights)
    ax = fig.axes[0]
    biggest = max(float(np.abs(w).max()) for w in weights.values())
    assert ax.get_xlim() == pytest.approx((-biggest, biggest))
    assert len(ax.patches) == len(weights)
    for patch, w in zip(ax.patches, weights.values()):
        xy = patch.get_xy()                                  # a step outline: (edge, height) pairs
        drawn = xy[1:-1:2, 1]                                # the height of each of the 60 bins
        assert xy[0, 0] == pytest.approx(-biggest) and xy[-1, 0] == pytest.approx(biggest)
        density, _ = np.histogram(np.ravel(w), bins=60, range=(-biggest, biggest), density=True)
        np.testing.assert_allclose(drawn, density, rtol=1e-5)  # (float32 weights) every weight, none clipped into an end bin
        assert drawn[0] <= drawn[1:5].max() and drawn[-1] <= drawn[-5:-1].max()  # no spike at the ends


def test_the_live_legend_entry_appears_only_with_live_data(monkeypatch):
    from dlcore.explorers import ch06 as ex06

    e = ex06.overfitting_explorer()
    assert "recomputed live (dots)" not in [t.get_text() for t in e.ax.get_legend().get_texts()]
    cached = e.state["hist"]
    monkeypatch.setattr(ex06, "run_setting", lambda *a, **k: cached)   # no training in a unit test
    assert e.recompute_live() == 0.0
    assert "recomputed live (dots)" in [t.get_text() for t in e.ax.get_legend().get_texts()]
    assert e.ax.get_legend() in e.static.dynamic
    assert dict(e.summary_rows())["recomputed live"].endswith("0")
