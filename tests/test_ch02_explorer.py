"""Chapter 2 softmax explorer driven headless: bars move as the maths says, numbers match dlcore."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.explorers.ch02 import MAX_CLASSES, softmax_explorer  # noqa: E402
from dlcore.losses import cross_entropy, cross_entropy_grad  # noqa: E402
from dlcore.softmax import softmax  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return softmax_explorer()


def _heights(bars):
    return np.array([r.get_height() for r in bars])


@pytest.mark.parametrize("params", [
    dict(n_classes=3, z0=1.0, z1=2.0, z2=3.0, temperature=1.0, true_class=0),
    dict(n_classes=5, z0=-2.0, z1=0.5, z2=4.0, z3=-5.5, z4=1.0, temperature=0.3, true_class=3),
    dict(n_classes=4, z0=6.0, z1=-6.0, z2=0.0, z3=2.0, temperature=5.0, true_class=2),
])
def test_bars_and_numbers_match_dlcore(ex, params):
    ex.update(**params)
    c, t, y = params["n_classes"], params["temperature"], params["true_class"]
    u = np.array([[params[f"z{i}"] for i in range(c)]]) / t
    p = softmax(u)[0]
    g = cross_entropy_grad(u, np.array([y]))[0]
    assert np.allclose(_heights(ex.bars_z)[:c], u[0])
    assert np.allclose(_heights(ex.bars_p)[:c], p, rtol=1e-12)
    assert np.allclose(_heights(ex.bars_g)[:c], g, rtol=1e-12)
    assert np.allclose(g, p - np.eye(c)[y])                       # the gradient is p − y
    assert ex.numbers["loss"] == pytest.approx(cross_entropy(u, np.array([y])), rel=1e-12)
    assert ex.numbers["loss"] == pytest.approx(-np.log(p[y]), rel=1e-10)
    assert [ex.numbers[f"p{k}"] for k in range(c)] == pytest.approx(list(p), rel=1e-12)
    assert [ex.numbers[f"grad{k}"] for k in range(c)] == pytest.approx(list(g), rel=1e-12, abs=1e-15)
    assert ex.numbers["sum_p"] == pytest.approx(1.0, abs=1e-12)
    # bars beyond n_classes are hidden, the true class is red
    assert [r.get_visible() for r in ex.bars_p] == [k < c for k in range(MAX_CLASSES)]
    assert matplotlib.colors.same_color(ex.bars_p[y].get_facecolor(), "tab:red")
    assert all(matplotlib.colors.same_color(ex.bars_p[k].get_facecolor(), "tab:blue") for k in range(c) if k != y)
    assert not any(f"p{k}" in ex.numbers for k in range(c, MAX_CLASSES))


def test_shift_invariance_and_temperature(ex):
    base = dict(n_classes=4, z0=1.0, z1=-0.5, z2=2.0, z3=0.0, temperature=1.0, true_class=1)
    ex.update(**base)
    before = _heights(ex.bars_p)[:4].copy()
    ex.update(**{f"z{i}": base[f"z{i}"] + 3.0 for i in range(4)})
    assert np.allclose(_heights(ex.bars_p)[:4], before, rtol=1e-12)  # adding a constant changes nothing
    ex.update(**base)
    ex.update(temperature=0.1)
    assert _heights(ex.bars_p)[2] > 0.99                               # cold: nearly arg max
    ex.update(temperature=10.0)
    assert np.ptp(_heights(ex.bars_p)[:4]) < 0.15                      # hot: nearly uniform


def test_loss_grows_and_gradient_nears_minus_one_when_confidently_wrong(ex):
    ex.update(n_classes=3, z0=5.0, z1=-5.0, z2=0.0, temperature=1.0, true_class=1)
    assert ex.numbers["loss"] > 10 and ex.numbers["grad1"] < -0.9999
    assert ex.numbers["grad0"] + ex.numbers["grad2"] == pytest.approx(-ex.numbers["grad1"])
    assert "L = −log p_1" in ex.loss_text.get_text()


def test_true_class_moves_into_range_when_classes_shrink():
    e = softmax_explorer(n_classes=5, true_class=4)
    e.update(n_classes=3)
    assert e.params["true_class"] == 2 and e.state["y"] == 2
    e.update(true_class=4)
    assert e.params["true_class"] == 2


def test_student_overlay():
    e = softmax_explorer(n_classes=3, student_fn=lambda z: softmax(z))
    assert np.allclose(e.student_marks.get_ydata(), _heights(e.bars_p)[:3])
    e2 = softmax_explorer(student_fn=lambda z: (_ for _ in ()).throw(NotImplementedError()))
    assert len(e2.student_marks.get_xdata()) == 0


def test_controls_drive_the_update():
    e = softmax_explorer()
    e.widget
    assert set(e.controls) == {"n_classes", "temperature", "true_class", *(f"z{i}" for i in range(MAX_CLASSES))}
    for name, w in e.controls.items():
        assert f"dl-ctl-{name}" in w._dom_classes and w.description
    e.controls["z1"].value = 4.0
    assert e.numbers["p1"] == pytest.approx(softmax(np.array([2.0, 4.0, 0.1, -1.0]))[1])
    e.controls["true_class"].value = 1
    assert e.numbers["loss"] == pytest.approx(-np.log(e.numbers["p1"]))
    assert "data-name='loss'" in e.readout.value
