"""Chapter 1's claims as numbers (issue claim C1): where a sigmoid output saturates on the wrong
side, MSE's gradient with respect to z vanishes through σ'(z) while cross-entropy's stays near 1."""
import numpy as np
import pytest

from dlcore.activations import sigmoid, sigmoid_grad
from dlcore.chapters.ch01 import neuron_data, sigmoid_output_table, train_neuron
from dlcore.losses import (binary_cross_entropy, binary_cross_entropy_grad, mse_loss, mse_loss_grad,
                           sigmoid_bce_grad_z, sigmoid_mse_grad_z)


def test_c1_ce_gradient_beats_mse_where_the_sigmoid_saturates_on_the_wrong_side():
    t = sigmoid_output_table([-20.0, -10.0, -5.0], y=1.0)
    # cross-entropy: dL/dz = p - 1, close to -1
    assert np.all(t["dbce_dz"] < -0.99)
    # MSE: dL/dz = 2 (p - 1) σ'(z), vanishing with σ'(z)
    assert abs(t["dmse_dz"][0]) < 1e-8 and abs(t["dmse_dz"][1]) < 1e-4 and abs(t["dmse_dz"][2]) < 0.014
    ratio = t["dbce_dz"] / t["dmse_dz"]
    assert ratio[1] == pytest.approx(11013.2, rel=1e-4)  # the notebook's "about 11,000 times"
    assert ratio[0] > 2e8
    # the same with the sides swapped for y = 0
    t0 = sigmoid_output_table([10.0], y=0.0)
    assert t0["dbce_dz"][0] > 0.9999 and 0 < t0["dmse_dz"][0] < 1e-4


def test_c1_ratio_is_exactly_two_sigma_prime_and_never_above_one_half():
    z = np.linspace(-30, 30, 601)
    for y in (0.0, 1.0):
        t = sigmoid_output_table(z, y=y)
        ratio = t["dmse_dz"] / t["dbce_dz"]
        assert np.allclose(ratio, 2 * sigmoid_grad(z), rtol=1e-9, atol=0)
        assert ratio.max() == pytest.approx(0.5) and ratio.min() > 0


def test_c1_z_gradients_equal_the_chain_rule_through_the_contract_losses():
    rng = np.random.default_rng(0)
    z = rng.uniform(-8, 8, size=50)
    y = (rng.uniform(size=50) > 0.5).astype(float)
    p, s = sigmoid(z), sigmoid_grad(z)
    assert np.allclose(mse_loss_grad(p, y) * s, sigmoid_mse_grad_z(z, y), rtol=1e-10, atol=1e-15)
    assert np.allclose(binary_cross_entropy_grad(p, y) * s, sigmoid_bce_grad_z(z, y), rtol=1e-8, atol=1e-15)
    assert np.allclose(sigmoid_bce_grad_z(z, y), (p - y) / z.size, rtol=1e-12)
    t = sigmoid_output_table([-2.0, 0.5], y=1.0)
    assert t["mse"][1] == pytest.approx(mse_loss(sigmoid(np.array([0.5])), [1.0]))
    assert t["bce"][0] == pytest.approx(binary_cross_entropy(sigmoid(np.array([-2.0])), [1.0]))


def test_c1_matches_torch_autograd_at_a_saturated_point():
    torch = pytest.importorskip("torch")
    z = torch.tensor([-10.0, -3.0, 0.0, 4.0], dtype=torch.float64, requires_grad=True)
    y = torch.ones(4, dtype=torch.float64)
    (g_mse,) = torch.autograd.grad(torch.nn.functional.mse_loss(torch.sigmoid(z), y), z)
    (g_bce,) = torch.autograd.grad(torch.nn.functional.binary_cross_entropy_with_logits(z, y), z)
    zn, yn = z.detach().numpy(), y.numpy()
    assert np.allclose(sigmoid_mse_grad_z(zn, yn), g_mse.numpy(), rtol=1e-10)
    assert np.allclose(sigmoid_bce_grad_z(zn, yn), g_bce.numpy(), rtol=1e-10)
    assert abs(g_bce[0].item()) / abs(g_mse[0].item()) > 1e4


def test_training_from_a_saturated_start_mse_stalls_cross_entropy_does_not():
    d = neuron_data("toy")
    mse = train_neuron("mse", -4.0, 2.0, d.x, d.y, lr=1.0, steps=200)
    bce = train_neuron("bce", -4.0, 2.0, d.x, d.y, lr=1.0, steps=200)
    assert mse[0, 3] == bce[0, 3] < 0.2                       # both start almost all wrong
    first = {k: int(np.argmax(tr[:, 3] >= 0.9)) for k, tr in (("mse", mse), ("bce", bce))}
    assert first["bce"] <= 10 and first["mse"] >= 100          # the notebook's "a few" versus "over a hundred"
    assert np.all(mse[50:100, 3] == 0.5)                       # MSE's plateau at 50 % accuracy
    assert bce[-1, 3] >= 0.95 and mse[-1, 3] >= 0.9            # both get there eventually


def test_section_1_mse_is_capped_cross_entropy_grows_and_is_clamped_at_100():
    p = np.array([0.9, 0.6, 0.1, 0.001])
    mse = [mse_loss([pi], [1.0]) for pi in p]
    ce = [binary_cross_entropy([pi], [1.0]) for pi in p]
    assert mse[-1] == pytest.approx(0.998001) and max(mse) < 1            # MSE never exceeds 1 per sample
    assert ce[-1] == pytest.approx(6.9078, abs=1e-4) and ce == sorted(ce)  # −log p grows as p → 0
    assert binary_cross_entropy([0.0], [1.0]) == pytest.approx(100.0)     # the clamp at −100
    assert binary_cross_entropy([1.0], [0.0]) == pytest.approx(100.0)
