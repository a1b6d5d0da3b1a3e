"""Chapter 3 vanishing-gradient explorer driven headless: bars follow a real backward pass."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dlcore.chapters.ch03 import MAX_DEPTH, _base_weights, layer_gradient_norms  # noqa: E402
from dlcore.explorers.ch03 import vanishing_gradient_explorer  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return vanishing_gradient_explorer()


def _torch_norms(depth, scale, activation, width=32, seed=0):
    """The same stack and loss in PyTorch (float64 autograd), independently of dlcore.nn."""
    base = _base_weights(seed, width, 64)
    x = torch.tensor(base["x"])
    ws = [torch.tensor(scale * base["w"][k], requires_grad=True) for k in range(depth)]
    act = torch.sigmoid if activation == "sigmoid" else torch.relu
    for w in ws:
        x = act(x @ w.T)
    (x * torch.tensor(base["readout"])).sum().backward()
    return np.array([w.grad.norm().item() for w in ws])


@pytest.mark.parametrize("depth,scale,act", [(10, 1.0, "sigmoid"), (25, 3.0, "sigmoid"), (6, 0.5, "relu"),
                                             (30, 1.4142, "relu")])
def test_bars_and_numbers_match_a_real_backward_pass(ex, depth, scale, act):
    ex.update(depth=depth, weight_scale=scale, activation=act)
    ref = _torch_norms(depth, scale, act)
    heights = np.array([b.get_height() for b in ex.bars[:depth]])
    np.testing.assert_allclose(heights, ref, rtol=1e-9)
    assert all(b.get_visible() for b in ex.bars[:depth])
    assert not any(b.get_visible() for b in ex.bars[depth:])
    assert ex.numbers["grad_norm_first"] == pytest.approx(ref[0], rel=1e-9)
    assert ex.numbers["grad_norm_last"] == pytest.approx(ref[-1], rel=1e-9)
    assert ex.numbers["ratio_first_to_last"] == pytest.approx(ref[0] / ref[-1], rel=1e-9)
    state = layer_gradient_norms(depth, scale, act)
    np.testing.assert_allclose(ex.act_line.get_ydata(), state["mean_act_grad"])


def test_deeper_sigmoid_stack_gives_layer_one_less(ex):
    firsts = []
    for depth in (2, 5, 10, 20, MAX_DEPTH):
        ex.update(depth=depth, weight_scale=1.0, activation="sigmoid")
        firsts.append(ex.numbers["grad_norm_first"])
        assert ex.numbers["mean_act_grad"] <= 0.25
    assert np.all(np.diff(firsts) < 0)
    assert firsts[-1] / firsts[0] < 1e-10


def test_relu_keeps_the_ratio_near_one_and_switching_changes_the_bars(ex):
    ex.update(depth=20, weight_scale=1.4142, activation="sigmoid")
    sig = [b.get_height() for b in ex.bars[:20]]
    assert ex.numbers["ratio_first_to_last"] < 1e-6
    ex.update(activation="relu")
    rel = [b.get_height() for b in ex.bars[:20]]
    assert 0.2 < ex.numbers["ratio_first_to_last"] < 5
    assert not np.allclose(sig, rel)
    lo, hi = ex.ax_g.get_ylim()
    assert lo <= min(rel) and hi >= max(rel)


def test_controls_and_bad_values(ex):
    w = ex.widget  # builds the ipywidgets controls
    assert set(ex.controls) == {"depth", "weight_scale", "activation"}
    for name, c in ex.controls.items():
        assert f"dl-ctl-{name}" in c._dom_classes and c.description
    ex.controls["depth"].value = 7
    assert len([b for b in ex.bars if b.get_visible()]) == 7
    with pytest.raises(ValueError, match="activation"):
        layer_gradient_norms(3, 1.0, "tanh")
    assert w is ex.widget


def test_student_overlay_marks_the_students_derivative():
    from dlcore import activations as A

    def wrong_sigmoid_grad(x):
        return A.sigmoid(x)  # forgot the (1 − σ) factor

    def unfinished(x):
        raise NotImplementedError()

    e = vanishing_gradient_explorer(student_fn={"sigmoid": wrong_sigmoid_grad, "relu": A.relu_grad}, depth=8)
    assert e.student_marks.get_visible() and e.numbers["student_max_diff"] > 0.1
    e.update(activation="relu")
    np.testing.assert_allclose(e.student_marks.get_ydata(), e.act_line.get_ydata(), rtol=1e-12)
    assert e.numbers["student_max_diff"] == 0.0
    e2 = vanishing_gradient_explorer(student_fn={"sigmoid": unfinished})
    assert e2.numbers["student_failed"] == 1.0 and not e2.student_marks.get_visible()
    assert "NotImplementedError" in e2.student_note.get_text() and e2.student_note.get_visible()
    with pytest.raises(ValueError, match="student_fn"):
        vanishing_gradient_explorer(student_fn={"tanh": unfinished})
