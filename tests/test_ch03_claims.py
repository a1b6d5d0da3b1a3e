"""Chapter 3's claims as numbers: σ' ≤ 1/4, the chain gradient bound, ReLU sparsity, exp vs max cost."""
import numpy as np
import pytest

from dlcore import activations as A
from dlcore.chapters import ch03


def test_c3_sigmoid_grad_peaks_at_a_quarter():
    z = np.linspace(-30, 30, 600_001)  # contains 0 exactly
    d = A.sigmoid_grad(z)
    assert d.max() == pytest.approx(0.25, abs=1e-15)
    assert z[d.argmax()] == 0.0
    assert np.all(d <= 0.25) and np.all(d >= 0)
    # σ' = σ(1 − σ), and it is even
    s = A.sigmoid(z[::1000])
    np.testing.assert_allclose(d[::1000], s * (1 - s), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(d, A.sigmoid_grad(-z), rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20, 30])
def test_c3_chain_gradient_falls_at_least_like_quarter_power(n):
    """|dy/dx| ≤ 0.25ⁿ·∏|w| and |dy/dw₁| ≤ |x|·0.25ⁿ·∏_{k≥2}|w_k| on a real dlcore.nn backward pass."""
    rng = np.random.default_rng(n)
    for _ in range(5):
        w = rng.normal(0, 3, size=n)
        x = float(rng.normal())
        dx = ch03.chain_input_gradient(x, w)
        assert abs(dx) <= 0.25 ** n * np.prod(np.abs(w)) * (1 + 1e-12)
        dw = ch03.sigmoid_chain_reference(x, w)
        assert abs(dw[0]) <= abs(x) * 0.25 ** n * np.prod(np.abs(w[1:])) * (1 + 1e-12)


def test_c3_chain_gradient_matches_chain_rule_and_numerical_gradient():
    from dlcore.gradcheck import numerical_gradient

    w = np.array([1.5, -0.7, 2.0, 0.3])
    x = 0.9

    def y_of(wv):
        return float(ch03.sigmoid_chain(wv).forward(np.array([[x]]))[0, 0])

    num = numerical_gradient(y_of, w.copy())
    np.testing.assert_allclose(ch03.sigmoid_chain_reference(x, w), num, rtol=1e-6, atol=1e-10)
    # hand-written chain rule
    a, z = [x], []
    for wk in w:
        z.append(wk * a[-1])
        a.append(float(A.sigmoid(np.array(z[-1]))))
    dx = np.prod([wk * float(A.sigmoid_grad(np.array(zk))) for wk, zk in zip(w, z)])
    assert ch03.chain_input_gradient(x, w) == pytest.approx(dx, rel=1e-12)


def test_c3_deep_sigmoid_stack_vanishes_relu_with_he_scale_does_not():
    sig = ch03.layer_gradient_norms(10, 1.0, "sigmoid")["grad_norms"]
    assert 1e-6 < sig[0] / sig[-1] < 1e-5                 # the notebook's "a few millionths"
    # every layer's gradient is below the one above it in a sigmoid stack at this scale
    assert np.all(np.diff(sig) > 0)
    rel = ch03.layer_gradient_norms(10, np.sqrt(2), "relu")["grad_norms"]
    assert 0.2 < rel[0] / rel[-1] < 5


def test_c4_relu_zeroes_about_half_of_zero_mean_inputs():
    rng = np.random.default_rng(0)
    frac = ch03.relu_sparsity(rng.standard_normal(1_000_000))
    assert abs(frac - 0.5) < 0.003
    per_layer = ch03.deep_relu_sparsity(rng=np.random.default_rng(1))
    assert np.all((per_layer > 0.35) & (per_layer < 0.65))
    assert abs(per_layer.mean() - 0.5) < 0.06


def test_c5_time_activations_times_each_case():
    """C5 (ReLU's forward is cheaper than the sigmoid's) is a timing: benchmarks/bench_claims.py
    checks it; a unit test asserts no wall-clock figure, only that every case is timed."""
    t = ch03.time_activations(n=1000, repeats=1, number=1, rng=np.random.default_rng(0))
    assert {"dlcore relu", "dlcore sigmoid", "np.maximum(x, 0) (ReLU)", "np.exp(-x) (the sigmoid's core)"} <= set(t)
    assert all(v > 0 for v in t.values())


def test_c3_big_weights_do_not_rescue_the_sigmoid():
    """w = 4 makes the bound 1 per layer, yet the chain gradient falls faster than with w = 1."""
    for n in (5, 10, 20):
        g1 = abs(ch03.chain_input_gradient(1.0, np.full(n, 1.0)))
        g4 = abs(ch03.chain_input_gradient(1.0, np.full(n, 4.0)))
        assert g4 < g1 < 0.25 ** n
    assert abs(ch03.chain_input_gradient(1.0, np.full(20, 4.0))) < 1e-22
    assert A.sigmoid_grad(np.array(3.0)) < 0.05                 # "below 0.05 at |z| = 3"
    for scale in (4.0, 6.0):                                    # the explorer at depth 10
        g = ch03.layer_gradient_norms(10, scale, "sigmoid")["grad_norms"]
        assert 1e-2 < g[0] / g[-1] < 0.1                        # "one to two orders of magnitude"


def test_c3_relu_scale_moves_all_layers_together_at_depth_30():
    out = {s: ch03.layer_gradient_norms(30, s, "relu")["grad_norms"] for s in (1.0, np.sqrt(2), 2.0)}
    for g in out.values():
        assert 0.5 < g[0] / g[-1] < 2
    assert out[1.0][-1] < 1e-4 and out[2.0][-1] > 1e4 and 0.3 < out[np.sqrt(2)][-1] < 3


def test_c3_in_the_32_wide_stack_bigger_weights_raise_layer_ones_share_but_it_still_vanishes():
    """Section 2, second case: ratio layer 1 / last layer at depth 10 for each weight scale, as printed."""
    ratio, last = {}, {}
    for scale in (1.0, 2.0, 4.0, 6.0):
        g = ch03.layer_gradient_norms(10, scale, "sigmoid")["grad_norms"]
        ratio[scale], last[scale] = g[0] / g[-1], g[-1]
    assert ratio[1.0] == pytest.approx(3.6e-6, rel=0.05)
    assert ratio[2.0] == pytest.approx(4.5e-4, rel=0.05)
    assert ratio[4.0] == pytest.approx(1.5e-2, rel=0.05)
    assert ratio[6.0] == pytest.approx(7.1e-2, rel=0.05)
    assert ratio[6.0] / ratio[1.0] > 1e4                    # "by four orders of magnitude"
    assert 1 / 70 < ratio[4.0] and ratio[6.0] < 1 / 10       # "1/15 to 1/70": still vanishing
    assert last[1.0] > last[2.0] > last[4.0] > last[6.0]     # the last layer's own gradient shrinks
    deeper = ch03.layer_gradient_norms(20, 4.0, "sigmoid")["grad_norms"]
    assert deeper[0] / deeper[-1] < ratio[4.0] / 10          # and the ratio keeps falling with depth


def test_c5_the_division_is_timed_apart_from_the_exponential():
    """The notes blame the division; bench_claims.py checks the timing (division < exp), this the cases."""
    t = ch03.time_activations(n=1000, repeats=1, number=1, rng=np.random.default_rng(0))
    assert "1 / (1 + e) (the sigmoid's division)" in t and t["1 / (1 + e) (the sigmoid's division)"] > 0
