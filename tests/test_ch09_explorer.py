"""Drive chapter 9's training explorer headless (Agg) and check its artists and numbers."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.chapters import ch09  # noqa: E402
from dlcore.explorers.ch09 import plot_training_curves, reference_history, training_explorer  # noqa: E402


@pytest.fixture(scope="module")
def run():
    return reference_history()


def test_each_step_shows_that_steps_loss_accuracy_and_kernels(run):
    ex = training_explorer()
    split = ch09.digits_split()
    for step in (0, 1, 55, 120):
        ex.update(step=step)
        assert ex.numbers["step"] == step
        p = run["init"] if step == 0 else run["snapshots"][step - 1]
        assert ex.numbers["test_acc"] == pytest.approx(ch09.accuracy(p, split.X_test, split.y_test))
        assert ex.cursor_l.get_xdata()[0] == step and ex.dot_a.get_ydata()[0] == ex.numbers["test_acc"]
        img = ex.image.get_array()
        np.testing.assert_allclose(img[:3, :3], p["conv_w"][0, 0])     # kernel 0, top left
        np.testing.assert_allclose(img[4:7, 12:15], p["conv_w"][7, 0])  # kernel 7, bottom right
        if step:
            assert ex.numbers["batch_loss"] == pytest.approx(run["losses"][step - 1])
            assert ex.numbers["epoch"] == (step - 1) // 40 + 1
        else:
            assert "batch_loss" not in ex.numbers and ex.numbers["epoch"] == 0
    with pytest.raises(ValueError, match="step must be in 0..120"):
        ex.update(step=121)


def test_the_change_view_shows_how_far_each_weight_moved(run):
    ex = training_explorer(step=120, kernels="change since step 0")
    np.testing.assert_allclose(ex.image.get_array(), run["mosaics"][120] - run["mosaics"][0])
    assert ex.numbers["kernel_change"] == pytest.approx(np.nanmax(np.abs(run["mosaics"][120] - run["mosaics"][0])))
    ex.update(step=0)
    assert ex.numbers["kernel_change"] == 0.0 and np.nanmax(np.abs(ex.image.get_array())) == 0.0
    with pytest.raises(ValueError, match="kernels must be one of"):
        ex.update(kernels="gradients")


def test_the_kernels_change_with_training(run):
    first, last = run["mosaics"][0], run["mosaics"][-1]
    gap = np.isnan(first)
    assert (gap == np.isnan(last)).all() and gap.sum() == 7 * 15 - 8 * 9   # a NaN gap between the 8 kernels
    assert np.nanmax(np.abs(last - first)) > 0.1


def test_your_curve_is_overlaid_and_compared(run):
    yours = run["losses"] * 1.01
    ex = training_explorer(your_losses=yours, step=30)
    assert ex.numbers["your_loss"] == pytest.approx(yours[29])
    assert ex.numbers["loss_gap"] == pytest.approx(0.01 * run["losses"][29])
    labels = [line.get_label() for line in ex.ax_l.get_lines()]
    assert "yours" in labels and "reference (dlcore)" in labels
    assert any("your batch loss" in label for label, _ in ex.summary_rows())


def test_training_curve_figure_draws_both_runs(run):
    fig = plot_training_curves(run["losses"][:50])
    lines = fig.axes[0].get_lines()
    data = {line.get_label(): line.get_ydata() for line in lines}
    np.testing.assert_allclose(data["reference (dlcore)"], run["losses"])
    assert len(data["yours (your functions)"]) == 50
    assert fig.axes[0].get_yscale() == "log"
    assert [line.get_label() for line in plot_training_curves(None).axes[0].get_lines()
            if not line.get_label().startswith("_")] == ["reference (dlcore)"]
