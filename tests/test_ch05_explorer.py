"""Chapter 5 explorer driven headless: artists move as the maths says, numbers match dlcore."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.batchnorm import batch_norm_forward  # noqa: E402
from dlcore.explorers.ch05 import batchnorm_explorer  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return batchnorm_explorer()


def _bar_rects(ex, key):
    """The drawn bars of one panel as (layers, n_bins, 4 corners, xy), from the collection's paths."""
    verts = np.array([p.vertices[:4] for p in ex.bars[key].get_paths()])
    return verts.reshape(-1, ex.n_bins, 4, 2)


def _heights(ex, key, layer):
    rects = _bar_rects(ex, key)
    h = rects[layer, :, 1, 1] - rects[layer, :, 0, 1] if layer < len(rects) else np.zeros(ex.n_bins)
    np.testing.assert_allclose(h, ex.bar_heights[key][layer])  # drawn = recorded
    return h


def _reference_stds(ex, depth, scale, batch, act):
    x = ex._x[:batch]
    plain, withbn = [], []
    a = b = x
    f = np.tanh if act == "tanh" else (lambda v: np.maximum(v, 0))
    for w in ex._w0[:depth]:
        w = scale * w / np.sqrt(w.shape[1])
        a = f(a @ w.T)
        z = b @ w.T
        b = f(batch_norm_forward(z, np.ones(z.shape[1]), np.zeros(z.shape[1]))[0])
        plain.append(a.std())
        withbn.append(b.std())
    return np.array(plain), np.array(withbn)


@pytest.mark.parametrize("params", [dict(depth=6, weight_scale=0.3, batch_size=128, activation="tanh"),
                                    dict(depth=10, weight_scale=3.0, batch_size=64, activation="relu"),
                                    dict(depth=3, weight_scale=1.0, batch_size=4, activation="tanh")])
def test_numbers_match_dlcore(ex, params):
    ex.update(**params)
    plain, withbn = _reference_stds(ex, params["depth"], params["weight_scale"], params["batch_size"], params["activation"])
    got_plain = [ex.numbers[f"std_plain_L{l + 1}"] for l in range(params["depth"])]
    got_bn = [ex.numbers[f"std_bn_L{l + 1}"] for l in range(params["depth"])]
    assert np.allclose(got_plain, plain, rtol=1e-12)
    assert np.allclose(got_bn, withbn, rtol=1e-12)
    assert ex.numbers["depth"] == params["depth"]
    assert not any(k.endswith(f"L{params['depth'] + 1}") for k in ex.numbers)
    # the std line is drawn from the same numbers
    assert np.allclose(ex.line_plain.get_ydata(), plain) and np.allclose(ex.line_bn.get_ydata(), withbn)


def test_small_weight_scale_collapses_plain_histograms_to_the_centre(ex):
    ex.update(depth=6, weight_scale=0.3, batch_size=128, activation="tanh")
    h = _heights(ex, "plain", 5)
    centre = ex.n_bins // 2
    assert h[centre - 1:centre + 1].max() == pytest.approx(0.9)     # everything in the middle bins
    assert h[: centre - 2].sum() + h[centre + 2:].sum() == 0
    hb = _heights(ex, "bn", 5)
    assert (hb > 0).sum() > ex.n_bins * 0.8                          # with BN: spread over the range


def test_large_weight_scale_saturates_tanh(ex):
    ex.update(depth=6, weight_scale=5.0, batch_size=128, activation="tanh")
    h = _heights(ex, "plain", 5)
    assert h[0] == pytest.approx(0.9) or h[-1] == pytest.approx(0.9)
    assert ex.numbers["std_plain_L6"] > 0.85


def test_bars_are_updated_in_place_and_hidden_beyond_depth(ex):
    ex.update(depth=8, weight_scale=1.0, batch_size=128, activation="tanh")
    bars = ex.bars["plain"]
    n_children = len(ex.ax_plain.get_children())
    before = _heights(ex, "plain", 3).copy()
    ex.update(weight_scale=0.5)
    assert ex.bars["plain"] is bars and len(ex.ax_plain.get_children()) == n_children
    assert np.abs(_heights(ex, "plain", 3) - before).max() > 0.05
    # every layer's bars sit on their own baseline y = -layer
    np.testing.assert_allclose(_bar_rects(ex, "plain")[:, :, 0, 1], -np.arange(8)[:, None] * np.ones(ex.n_bins))
    ex.update(depth=2)
    assert len(_bar_rects(ex, "plain")) == 2                       # layers beyond depth are not drawn
    assert not ex.bar_heights["plain"][5].any() and ex.bar_heights["plain"][1].any()
    assert ex.layer_labels["plain"][5].get_text() == "" and ex.layer_labels["plain"][1].get_text()


def test_static_parts_render_once(ex):
    """Axes, ticks and titles are cached: slider moves draw only bars, labels and the std panel."""
    ex.update(depth=6, weight_scale=1.0, batch_size=128, activation="tanh")
    ex.fig.canvas.draw()
    renders = ex.static.renders
    for scale in (0.5, 0.8, 1.5):
        ex.update(weight_scale=scale)
        ex.fig.canvas.draw()
    assert ex.static.renders == renders
    ex.update(activation="relu")  # new bin range: new x limits, the cache is rebuilt once
    ex.fig.canvas.draw()
    assert ex.static.renders == renders + 1
    ex.update(activation="tanh")
    ex.fig.canvas.draw()


def test_activation_switch_moves_the_bins(ex):
    ex.update(activation="relu")
    assert _bar_rects(ex, "bn")[0, 0, 0, 0] == pytest.approx(0.0)
    assert ex.ax_bn.get_xlim() == pytest.approx((0.0, 3.0))
    ex.update(activation="tanh")
    assert _bar_rects(ex, "bn")[0, 0, 0, 0] == pytest.approx(-1.0)


def test_student_overlay_and_controls():
    calls = []

    def student_bn(x, gamma, beta, eps=1e-5):
        calls.append(x.shape)
        mu, var = x.mean(axis=0), x.var(axis=0)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta

    e = batchnorm_explorer(student_fn=student_bn, depth=4)
    assert len(calls) == 4
    assert np.allclose(e.line_student.get_ydata(), e.line_bn.get_ydata(), rtol=1e-10)
    w = e.widget
    assert set(e.controls) == {"depth", "weight_scale", "batch_size", "activation"}
    for name, c in e.controls.items():
        assert f"dl-ctl-{name}" in c._dom_classes and c.description
    e.controls["depth"].value = 7                                  # a control drives update()
    assert e.numbers["depth"] == 7 and "std_bn_L7" in e.numbers
    assert w is e.widget


def test_bad_parameters_raise():
    e = batchnorm_explorer()
    with pytest.raises(ValueError, match="activation"):
        e.update(activation="gelu")
    with pytest.raises(ValueError, match="unknown"):
        e.update(width=3)


def test_no_empty_layer_rows_and_no_legend_entry_without_data():
    from dlcore.explorers.ch05 import batchnorm_explorer

    e = batchnorm_explorer(depth=7)
    labels = [t.get_text() for t in e.ax_plain.get_yticklabels()]
    assert labels == [f"layer {k}" for k in range(1, 8)]            # no "layer 8–10" below a depth-7 stack
    assert e.ax_plain.get_ylim()[0] > -7.5
    renders = e.static.renders
    e.update(depth=5)
    e.fig.canvas.draw()
    e.update(depth=7)
    e.fig.canvas.draw()
    assert e.static.renders <= renders + 1          # a depth change does not re-render the cached picture
    legend = [t.get_text() for t in e.ax_std.get_legend().get_texts()]
    assert legend == ["without BN", "with BN"]                       # "with your BN" only with a student's BN
    rows = e.summary_rows()
    assert [r[0] for r in rows[1:]] == [f"layer {k}" for k in range(1, 8)]
    e.update(depth=3)
    assert [t.get_text() for t in e.ax_plain.get_yticklabels()] == ["layer 1", "layer 2", "layer 3"]
