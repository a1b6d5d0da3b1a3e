"""Drive chapter 8's error-term explorer headless (Agg): artists and numbers vs dlcore."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import conv, pooling  # noqa: E402
from dlcore.explorers.ch08 import backprop_explorer, fmt, stack_input, top_delta  # noqa: E402
from _support import render_once_then_skip_renders  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return render_once_then_skip_renders(backprop_explorer())


def _reference(seed, pool, pattern, row, col, padding=0):
    x, w, b = stack_input(seed)
    z, cz = conv.conv2d_forward(x, w, b, padding=padding)
    a = np.maximum(z, 0)
    fwd, bwd = ((pooling.max_pool2d_forward, pooling.max_pool2d_backward) if pool == "max"
                else (pooling.avg_pool2d_forward, pooling.avg_pool2d_backward))
    p, cp = fwd(a, 2)
    dp = top_delta(p.shape, pattern, row, col, seed)
    da = bwd(dp, cp)
    dz = da * (z > 0)
    dx, dw, db = conv.conv2d_backward(dz, cz)
    return dict(x=x, w=w, z=z, a=a, p=p, dp=dp, da=da, dz=dz, dx=dx, dw=dw, db=db)


def _texts(ex, name):
    return [[t.get_text() for t in row] for row in ex.txt[name]]


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("pattern", ["one cell", "all ones", "random"])
def test_every_map_matches_dlcore(ex, pool, pattern):
    ex.update(pool=pool, pattern=pattern, row=1, col=2, step=3, padding=0, seed=0)
    r = _reference(0, pool, pattern, 1, 2)
    for name in ("dp", "da", "dz", "dx"):
        np.testing.assert_allclose(ex.im[name].get_array(), r[name][0, 0], err_msg=name)
    np.testing.assert_allclose(ex.im["dw"].get_array(), r["dw"][0, 0])
    np.testing.assert_allclose(ex.im["wr"].get_array(), r["w"][0, 0, ::-1, ::-1])
    n = ex.numbers
    assert n["sum delta top"] == pytest.approx(r["dp"].sum())
    assert n["sum delta a"] == pytest.approx(r["dp"].sum())  # both pools preserve Σδ
    assert n["db"] == pytest.approx(r["dz"].sum()) == pytest.approx(float(r["db"][0]))
    assert n["max |dx - fullconv(dz, rot180 w)|"] < 1e-12
    assert n["max |dW - corr(x, dz)|"] < 1e-12
    # numbers readable in every cell: the texts are the formatted values
    # (exact zeros of a δ map are left blank so the flow stands out)
    show = lambda v: "" if v == 0 else fmt(v)  # noqa: E731
    assert _texts(ex, "dx") == [[show(v) for v in row] for row in r["dx"][0, 0]]
    assert _texts(ex, "da")[:6] == [[show(v) for v in row] + ["", ""] for row in r["da"][0, 0]]
    assert _texts(ex, "z")[:6] == [[fmt(v) for v in row] + ["", ""] for row in r["z"][0, 0]]


def test_one_cell_reaches_one_switch_or_a_whole_window(ex):
    ex.update(pattern="one cell", row=2, col=0, step=3, padding=0, seed=0, pool="max")
    assert ex.numbers["cells receiving delta"] == 1
    r = _reference(0, "max", "one cell", 2, 0)
    win = r["a"][0, 0, 4:6, 0:2]
    i, j = np.unravel_index(np.argmax(win), win.shape)
    assert ex.im["da"].get_array()[4 + i, j] == 1.0
    # the green switch boxes sit on the arg-max of every window
    boxes = {(int(b.get_xy()[1] + 0.5), int(b.get_xy()[0] + 0.5)) for b in ex.boxes["a"] if b.get_visible()}
    assert len(boxes) == 9 and (4 + i, j) in boxes
    ex.update(pool="avg")
    assert ex.numbers["cells receiving delta"] == 4
    np.testing.assert_allclose(ex.im["da"].get_array()[4:6, 0:2], 0.25)


def test_step_walks_the_flow_one_layer_at_a_time(ex):
    ex.update(pattern="all ones", pool="max", padding=0, seed=0)
    visible = {}
    for step in range(4):
        ex.update(step=step)
        visible[step] = {k: any(t for row in _texts(ex, k) for t in row) for k in ("dp", "da", "dz", "dx", "dw")}
        assert "step %d" % step in ex.step_text.get_text()
    assert visible[0] == {"dp": True, "da": False, "dz": False, "dx": False, "dw": False}
    assert visible[1]["da"] and not visible[1]["dz"]
    assert visible[2]["dz"] and not visible[2]["dx"]
    assert all(visible[3].values())
    assert ex.im["dx"].get_alpha() == 1.0
    ex.update(step=0)
    assert ex.im["dx"].get_alpha() == 0.0


def test_relu_veil_marks_dead_cells(ex):
    ex.update(step=3, pattern="random", seed=2, padding=0)
    r = _reference(2, ex.params["pool"], "random", 0, 0)
    np.testing.assert_array_equal(ex.veil_mask["dz"], r["z"][0, 0] <= 0)
    # one grey square per dead cell, centred on it
    centres = np.array([p.vertices[:4].mean(0) for p in ex.veil["dz"].get_paths()])
    rows, cols = np.nonzero(r["z"][0, 0] <= 0)
    np.testing.assert_allclose(centres, np.stack([cols, rows], -1))
    assert np.all(ex.im["dz"].get_array()[r["z"][0, 0] <= 0] == 0)


def test_padding_changes_sizes(ex):
    ex.update(padding=1, pattern="one cell", row=3, col=3, step=3, pool="max", seed=1)
    r = _reference(1, "max", "one cell", 3, 3, padding=1)
    assert ex.im["z"].get_array().shape == (8, 8) and ex.im["dp"].get_array().shape == (4, 4)
    np.testing.assert_allclose(ex.im["dx"].get_array(), r["dx"][0, 0])
    assert ex.numbers["max |dx - fullconv(dz, rot180 w)|"] < 1e-12
    ex.update(padding=0)
    assert ex.im["z"].get_array().shape == (6, 6)


def test_controls_have_classes(ex):
    ex.widget
    for name, c in ex.controls.items():
        assert f"dl-ctl-{name}" in c._dom_classes and c.description
    ex.controls["step"].value = 1
    assert ex.params["step"] == 1


def test_student_overlay_reports_the_gap():
    from dlcore.pooling import max_pool2d_backward as ref_max, max_pool2d_forward

    def good_max(dout, x, k, stride=None):
        return ref_max(dout, max_pool2d_forward(x, k, stride)[1])

    def wrong_avg(dout, x_shape, k, stride=None):  # forgot the 1/k²
        return np.kron(dout, np.ones((1, 1, k, k)))

    def unsolved(*args):
        raise NotImplementedError

    e = backprop_explorer(student_fns={"max_pool2d_backward": good_max, "avg_pool2d_backward": wrong_avg,
                                       "conv2d_backward": unsolved}, step=3, pattern="all ones")
    e.fig.canvas.draw_idle = lambda *a, **k: None
    assert e.numbers["max |your δa − dlcore|"] == 0.0
    assert e.numbers["max |your δx − dlcore|"] == "not implemented yet"
    e.update(pool="avg")
    assert e.numbers["max |your δa − dlcore|"] == pytest.approx(0.75)  # 1 − 1/4
    with pytest.raises(ValueError, match="student_fns"):
        backprop_explorer(student_fns={"bogus": good_max})


def test_numbers_are_drawn_and_static_parts_render_once():
    """The cell numbers are pasted by one TextGrid; frames and titles are rendered only when the
    panels change size (padding)."""
    e = backprop_explorer(step=3)
    c = e.fig.canvas
    c.draw()
    renders = e.static.renders
    assert all(t.get_animated() for rows in e.txt.values() for row in rows for t in row)
    box = e.ax["x"].get_window_extent()
    height = np.asarray(c.buffer_rgba()).shape[0]

    def cell(i, j):  # pixels of input cell (i, j); cells are 1 wide in data units
        (x0, y0), (x1, y1) = e.ax["x"].transData.transform([(j - 0.4, i + 0.4), (j + 0.4, i - 0.4)])
        return np.asarray(c.buffer_rgba())[int(height - y1):int(height - y0), int(x0):int(x1), :3].copy()

    shown = cell(0, 0)
    assert len(np.unique(shown.reshape(-1, 3), axis=0)) > 3  # a number on a flat colour: more than one colour
    for changes in (dict(row=2), dict(col=1), dict(step=1), dict(pattern="random"), dict(seed=4), dict(pool="avg")):
        e.update(**changes)
    assert e.static.renders == renders
    assert not np.array_equal(shown, cell(0, 0))  # seed 4: another x, another number
    e.update(padding=1)
    assert e.static.renders == renders + 1 and box == e.ax["x"].get_window_extent()
    frame = np.asarray(c.buffer_rgba()).copy()
    e.static.invalidate()
    c.draw()
    assert np.array_equal(frame, np.asarray(c.buffer_rgba()))


def test_read_out_shows_only_what_the_panels_show_at_each_step():
    from dlcore.explorers.ch08 import backprop_explorer

    e = backprop_explorer(step=1)
    text = " ".join(f"{a} {b}" for a, b in e.summary_rows())
    assert "δx" not in text and "dW" not in text and "db" not in text     # those panels are blank at step 1
    assert "Σδa after the pool" in text and "raise step" in text
    assert "dW[0,0]" in e.numbers                                          # the API still has every number
    e.update(step=3)
    text = " ".join(f"{a} {b}" for a, b in e.summary_rows())
    assert "δx vs full conv" in text and "dW vs corr" in text and "raise step" not in text
    e.widget
    assert "max |dx - fullconv" not in e.readout.value.split("</span>")[-1]  # no raw name = value row
