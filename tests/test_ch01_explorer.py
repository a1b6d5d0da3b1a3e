"""Chapter 1 loss-surface explorer driven headless: artists move as the maths says, numbers match dlcore."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.activations import sigmoid, sigmoid_grad  # noqa: E402
from dlcore.explorers.ch01 import loss_surface_explorer  # noqa: E402
from dlcore.losses import (binary_cross_entropy, binary_cross_entropy_grad,  # noqa: E402
                           binary_cross_entropy_with_logits, mse_loss, mse_loss_grad)


@pytest.fixture(scope="module")
def ex():
    return loss_surface_explorer()


def _reference(ex, w, b):
    """Losses and (w, b) gradients by the contract's functions and the chain rule, independently."""
    x, y = ex.data.x, ex.data.y
    z = w * x + b
    p, s = sigmoid(z), sigmoid_grad(z)
    out = {"mse": mse_loss(p, y), "bce": binary_cross_entropy(p, y)}
    for name, dp in (("mse", mse_loss_grad(p, y)), ("bce", binary_cross_entropy_grad(p, y))):
        dz = dp * s
        out[f"d{name}_dw"], out[f"d{name}_db"] = float((dz * x).sum()), float(dz.sum())
    return out


@pytest.mark.parametrize("w,b", [(-4.0, 2.0), (0.0, 0.0), (3.5, -1.2), (-6.0, 6.0)])
def test_numbers_match_dlcore(ex, w, b):
    ex.update(w=w, b=b, lr=1.0)
    ref = _reference(ex, w, b)
    assert ex.numbers["w"] == w and ex.numbers["b"] == b
    for k, v in ref.items():
        assert ex.numbers[k] == pytest.approx(v, rel=1e-7, abs=1e-12), k


def test_point_arrow_and_3d_marker_follow_the_point(ex):
    for w, b, lr in [(-4.0, 2.0, 1.0), (1.5, -0.5, 3.0)]:
        ex.update(w=w, b=b, lr=lr)
        for i, name in enumerate(("mse", "bce")):
            xs, ys = ex.points[i].get_data()
            assert (xs[0], ys[0]) == (w, b)
            assert np.allclose(ex.arrows[i].get_offsets(), [[w, b]])
            # the arrow is one descent step −lr·∇L
            assert ex.arrows[i].U[0] == pytest.approx(-lr * ex.numbers[f"d{name}_dw"])
            assert ex.arrows[i].V[0] == pytest.approx(-lr * ex.numbers[f"d{name}_db"])
            x3, y3, z3 = ex.points3d[i].get_data_3d()
            assert (x3[0], y3[0]) == (w, b) and z3[0] == pytest.approx(ex.numbers[name])
            assert f"L = {ex.numbers[name]:.3g}" in ex.labels[i].get_text()


def test_saturated_start_mse_arrow_is_much_shorter_than_ce_arrow(ex):
    ex.update(w=-4.0, b=2.0, lr=1.0)
    mse = np.hypot(ex.arrows[0].U[0], ex.arrows[0].V[0])
    ce = np.hypot(ex.arrows[1].U[0], ex.arrows[1].V[0])
    assert mse < 0.1 * ce and ce > 0.9
    ex.update(w=4.0, b=0.0)  # near the minimum both are small
    assert np.hypot(ex.arrows[1].U[0], ex.arrows[1].V[0]) < 0.1


def test_surfaces_are_precomputed_and_equal_dlcore(ex):
    mse_id, bce_id = id(ex.MSE), id(ex.BCE)
    images = [ax.images[0].get_array().copy() for ax in ex.ax_c]
    ex.update(w=2.0, b=-3.0)
    assert id(ex.MSE) == mse_id and id(ex.BCE) == bce_id
    for ax, before in zip(ex.ax_c, images):
        assert np.array_equal(ax.images[0].get_array(), before)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, ex.W.shape[0], size=(6, 2)):
        w, b = ex.W[i, j], ex.B[i, j]
        z = w * ex.data.x + b
        assert ex.MSE[i, j] == pytest.approx(mse_loss(sigmoid(z), ex.data.y), rel=1e-12)
        assert ex.BCE[i, j] == pytest.approx(binary_cross_entropy_with_logits(z, ex.data.y), rel=1e-12)


def test_student_overlay_and_an_unfinished_exercise():
    def good(p, y):
        return float(np.mean((np.asarray(p) - y) ** 2))

    def unfinished(p, y):
        raise NotImplementedError()

    e = loss_surface_explorer(w=-1.0, b=0.5, student_fn={"mse_loss": good, "binary_cross_entropy": unfinished})
    assert e.numbers["student_mse_loss"] == pytest.approx(e.numbers["mse"], rel=1e-12)
    assert np.isnan(e.numbers["student_binary_cross_entropy"])
    with pytest.raises(ValueError, match="student_fn"):
        loss_surface_explorer(student_fn={"softmax": good})


def test_controls_drive_the_update():
    e = loss_surface_explorer()
    box = e.widget
    assert set(e.controls) == {"w", "b", "lr"}
    for name, w in e.controls.items():
        assert f"dl-ctl-{name}" in w._dom_classes and w.description
    e.controls["w"].value = 2.5
    assert e.params["w"] == 2.5 and e.numbers["w"] == 2.5
    assert e.points[0].get_data()[0][0] == 2.5
    e.update(b=-1.0)
    assert e.controls["b"].value == -1.0
    assert "dl-readout" in e.readout._dom_classes and "data-name='bce'" in e.readout.value
    assert box is e.widget


def test_digits_data_runs():
    e = loss_surface_explorer(data="digits", w=-4.0, b=2.0)
    assert e.data.x.shape == (360,) and set(np.unique(e.data.y)) == {0.0, 1.0}
    ref = _reference(e, -4.0, 2.0)
    assert e.numbers["bce"] == pytest.approx(ref["bce"], rel=1e-7)


def test_static_surfaces_render_once_and_only_the_point_moves():
    """Images, contours and 3-D surfaces are rendered once; an update redraws the point and arrow."""
    e = loss_surface_explorer()
    e.fig.canvas.draw()
    renders = e.static.renders
    before = np.asarray(e.fig.canvas.buffer_rgba()).copy()
    for w in (-2.0, 0.5, 3.0):
        e.update(w=w, b=-1.0)  # draw_idle renders at once on Agg
    assert e.static.renders == renders
    after = np.asarray(e.fig.canvas.buffer_rgba()).copy()
    changed = (before != after).any(-1)
    assert 0 < changed.mean() < 0.05  # the point, arrow, label and 3-D marker: a few per cent of the pixels
    e.static.invalidate()  # a full render gives the same picture
    e.fig.canvas.draw()
    assert np.array_equal(after, np.asarray(e.fig.canvas.buffer_rgba()))
    e.ax_s[0].view_init(elev=10, azim=30)  # rotating a 3-D panel (the mouse does this) re-renders it
    e.fig.canvas.draw()
    assert e.static.renders == renders + 2


def test_a_step_hidden_by_the_marker_is_also_drawn_magnified():
    """At the default point the MSE step −lr·∇L is 0.08 long, inside the marker: its direction
    is also drawn ×20 (labelled), while the red arrow stays to scale."""
    from dlcore.explorers.ch01 import MIN_VISIBLE_STEP, loss_surface_explorer

    e = loss_surface_explorer(w=-4.0, b=2.0)
    gw, gb = e.numbers["dmse_dw"], e.numbers["dmse_db"]
    assert round(float(np.hypot(gw, gb)), 2) == 0.08                # "0.08 long": shorter than the marker ring
    assert e.arrows[0].U[0] == pytest.approx(-gw) and e.arrows[0].V[0] == pytest.approx(-gb)
    assert e.magnified[0].get_visible() and e.mag_labels[0].get_text() == "step ×20"
    assert np.hypot(e.magnified[0].U[0], e.magnified[0].V[0]) >= MIN_VISIBLE_STEP
    assert np.arctan2(e.magnified[0].V[0], e.magnified[0].U[0]) == pytest.approx(np.arctan2(-gb, -gw))
    assert not e.magnified[1].get_visible()                        # the CE step (≈ 1) is visible as it is
    assert e.points[0].get_markerfacecolor() == "none"              # a ring: the arrow shows inside it


def test_training_figure_labels_its_contours():
    from dlcore.explorers.ch01 import plot_training

    fig, _ = plot_training(w0=-4.0, b0=2.0, lr=1.0, steps=50)
    ax = fig.axes[0]
    assert ax.texts, "contour lines carry their loss values"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "contours: cross-entropy loss" in legend
