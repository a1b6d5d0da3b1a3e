"""Drive chapter 7's convolution explorer headless (Agg) and check its artists and numbers."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import conv, pooling  # noqa: E402
from dlcore.explorers.ch07 import (MAX_KERNELS, conv_explorer, kernel_bank, load_input,  # noqa: E402
                                   parse_custom_kernel, random_kernels)
from _support import render_once_then_skip_renders  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return render_once_then_skip_renders(conv_explorer())


def _expected(x, w, stride, padding, pool, k=2):
    z, _ = conv.conv2d_forward(x, w, np.zeros(len(w)), stride=stride, padding=padding)
    a = np.maximum(z, 0)
    fn = pooling.max_pool2d_forward if pool == "max" else pooling.avg_pool2d_forward
    return z, a, fn(a, k)[0]


def test_default_draws_every_channel_from_dlcore(ex):
    ex.update(kernel="edge", n_kernels=4, stride=1, padding=0, pool="max", pool_size=2)
    x = load_input(64)
    w, _ = kernel_bank("edge", 4)
    z, a, p = _expected(x, w, 1, 0, "max")
    for f in range(4):
        np.testing.assert_allclose(ex.im_relu[f].get_array(), a[0, f])
        np.testing.assert_allclose(ex.im_pool[f].get_array(), p[0, f])
    np.testing.assert_allclose(ex.im_pre.get_array(), z[0, 0])
    assert ex.numbers["output channels"] == 4
    assert (ex.numbers["conv H_out"], ex.numbers["pool H_out"]) == (62, 31)
    assert ex.numbers["conv out shape"] == "(1, 4, 62, 62)"
    assert ex.numbers["conv parameters"] == 4 * 27 + 4 and ex.numbers["pool parameters"] == 0


@pytest.mark.parametrize("stride,padding", [(2, 1), (3, 0), (4, 3)])
def test_stride_padding_follow_the_formula(ex, stride, padding):
    before = ex.im_relu[0].get_array().copy()
    ex.update(kernel="blur", n_kernels=3, stride=stride, padding=padding, pool="avg")
    H = (64 + 2 * padding - 3) // stride + 1
    assert ex.numbers["conv H_out"] == H and ex.numbers["conv W_out"] == H
    assert ex.numbers["pool H_out"] == H // 2
    x = load_input(64)
    w, _ = kernel_bank("blur", 3)
    _, a, p = _expected(x, w, stride, padding, "avg")
    assert ex.im_relu[0].get_array().shape == (H, H) != before.shape
    np.testing.assert_allclose(ex.im_pool[2].get_array(), p[0, 2])
    # unused panels are hidden (their maps and titles off, a figure-coloured patch over their
    # frames), used ones shown
    shown = [True] * 3 + [False] * (MAX_KERNELS - 3)
    for artists in (ex.im_relu, ex.im_pool, ex.im_k, [ax.title for ax in ex.ax_k]):
        assert [a.get_visible() for a in artists] == shown
    x0, _, width, height = ex.cover.get_bbox().bounds
    assert ex.cover.get_visible() and ex.ax_relu[2].get_position().x1 < x0 < ex.ax_relu[3].get_position().x0
    assert x0 + width == pytest.approx(1.0) and height == pytest.approx(1.0)
    ex.update(stride=1, padding=0)


def test_hidden_columns_are_blank_and_static_parts_render_once(ex):
    ex.update(kernel="edge", n_kernels=4, stride=1, padding=0, pool="max", pool_size=2, seed=0)
    ex.fig.canvas.draw()
    renders = ex.static.renders
    for changes in (dict(n_kernels=2), dict(stride=3), dict(padding=2), dict(pool="avg"), dict(kernel="blur")):
        ex.update(**changes)
        ex.fig.canvas.draw()
    assert ex.static.renders == renders  # sizes, titles and hidden columns never re-render the axes
    px = np.asarray(ex.fig.canvas.buffer_rgba())
    h = px.shape[0]
    x_lo = int(np.ceil(ex.cover.get_x() * px.shape[1]))
    assert (px[:, x_lo:, :3] == 255).all()  # columns of kernels 2 and 3: nothing drawn
    box = ex.ax_relu[1].get_window_extent()
    panel = px[int(h - box.y1) + 2:int(h - box.y0) - 2, int(box.x0) + 2:int(box.x1) - 2, :3]
    assert (panel != 255).any()  # kernel 1's map is drawn
    ex.update(n_kernels=4, stride=1, padding=0, pool="max", kernel="edge")


def test_max_vs_avg_pooling_changes_the_pooled_panels(ex):
    ex.update(kernel="sharpen", n_kernels=2, stride=1, padding=0, pool="max")
    pmax = ex.im_pool[1].get_array().copy()
    ex.update(pool="avg")
    pavg = ex.im_pool[1].get_array().copy()
    assert np.all(pmax >= pavg - 1e-12) and np.any(pmax > pavg + 1e-3)


def test_random_kernels_and_seed(ex):
    ex.update(kernel="random", n_kernels=4, seed=3)
    np.testing.assert_allclose(ex.state["w"], random_kernels(4, 3))
    k0 = ex.im_k[0].get_array().copy()
    ex.update(seed=4)
    assert not np.allclose(k0, ex.im_k[0].get_array(), equal_nan=True)


def test_custom_kernel_per_channel(ex):
    text = "R: 0 0 0 0 1 0 0 0 0\nG: 0 0 0 0 0 0 0 0 0\nB: 0 0 0 0 0 0 0 0 0"
    ex.update(kernel="custom", n_kernels=1, custom=text, stride=1, padding=0, pool="max")
    # an identity on the red channel: output = the red channel's interior
    x = load_input(64)
    np.testing.assert_allclose(ex.im_relu[0].get_array(), x[0, 0, 1:-1, 1:-1], atol=1e-12)
    np.testing.assert_allclose(ex.state["w"][0], parse_custom_kernel(text))
    # a malformed text keeps the last good kernel and says why in the read-out
    ex.update(custom="1 2 3")
    np.testing.assert_allclose(ex.state["w"][0], parse_custom_kernel(text))
    assert "9 numbers" in ex.numbers["custom kernel error"]
    ex.update(custom="1 1 1 1 1 1 1 1 1")  # one line: the same layer on all three channels
    np.testing.assert_allclose(ex.state["w"][0], np.ones((3, 3, 3)))
    assert "custom kernel error" not in ex.numbers


def test_controls_have_classes_and_drive_update(ex):
    w = ex.widget
    assert w is not None and set(ex.controls) == set(ex.params)
    for name, c in ex.controls.items():
        assert f"dl-ctl-{name}" in c._dom_classes and c.description
    ex.controls["stride"].value = 2
    assert ex.params["stride"] == 2 and ex.numbers["conv H_out"] == (64 - 3) // 2 + 1
    ex.controls["stride"].value = 1


def test_unknown_parameter_is_an_error():
    with pytest.raises(ValueError):
        conv_explorer(bogus=1)


def test_student_overlay_reports_the_gap():
    def shifted(x, w, b, stride=1, padding=0):
        return conv.conv2d_forward(x, w, b, stride=stride, padding=padding)[0] + 0.5

    def unsolved(*args):
        raise NotImplementedError

    e = conv_explorer(student_fn=shifted, n_kernels=1)
    e.fig.canvas.draw_idle = lambda *a, **k: None
    assert e.numbers["max |your conv − dlcore|"] == pytest.approx(0.5)
    e.update(stride=2, padding=1)
    assert e.numbers["max |your conv − dlcore|"] == pytest.approx(0.5)
    assert dict(e.summary_rows())["your conv2d_forward"].endswith("differs from dlcore</span>: largest difference 0.5")
    e2 = conv_explorer(student_fn=unsolved, n_kernels=1)
    assert e2.numbers["max |your conv − dlcore|"] == "not implemented yet"
    assert "not implemented yet" in dict(e2.summary_rows())["your conv2d_forward"]
    e3 = conv_explorer(student_fn=lambda x, w, b, stride=1, padding=0: conv.conv2d_forward(x, w, b, stride, padding)[0])
    assert dict(e3.summary_rows())["your conv2d_forward"] == "matches dlcore: largest difference 0"


def test_pooling_comparison_figure_shows_max_above_average_for_every_seed():
    """Section 7's figure: each seed's test accuracy (right) and validation curve (left) are the
    runs the sentence reports, and every max-pooling point sits above the average-pooling one."""
    from dlcore.chapters.ch07 import pooling_comparison
    from dlcore.explorers.ch07 import plot_pooling_comparison

    r = pooling_comparison(seeds=(0, 1, 2), epochs=10)            # the chapter's call
    fig = plot_pooling_comparison(r)
    ax_v, ax_t = fig.axes[:2]
    pts = {pool: np.asarray(line.get_ydata()) for pool, line in zip(("max", "avg"), ax_t.get_lines())}
    for pool in ("max", "avg"):
        np.testing.assert_array_equal(pts[pool], r[pool]["test_acc"])
    assert np.all(pts["max"] > pts["avg"])
    legend = [t.get_text() for t in ax_t.get_legend().get_texts()]
    assert legend == [f"max pooling: mean {r['max']['test_acc'].mean():.3f}",
                      f"avg pooling: mean {r['avg']['test_acc'].mean():.3f}"]
    curves = [np.asarray(line.get_ydata()) for line in ax_v.get_lines()]
    np.testing.assert_array_equal(np.array(curves), np.concatenate([r["max"]["val_acc"], r["avg"]["val_acc"]]))
    assert ax_t.get_ylabel() == "test accuracy" and ax_v.get_ylabel() == "validation accuracy"
