"""Chapter 2's claims as numbers (issue claim C2): softmax outputs lie in (0, 1) and sum to 1; the
naive formula overflows and the max shift fixes it; CE∘softmax's gradient is p − y; a gradient
check tells a right gradient from a wrong one; the affine layer's worked examples."""
import numpy as np
import pytest

from dlcore.chapters.ch02 import (gradient_check_table, gradient_three_ways, linear_softmax_digits, overflow_table,
                                  pairing_table)
from dlcore.gradcheck import numerical_gradient
from dlcore.linear import linear_backward, linear_forward
from dlcore.losses import cross_entropy, cross_entropy_grad
from dlcore.softmax import log_softmax, naive_softmax, softmax


@pytest.mark.parametrize("shape", [(5,), (8, 3), (4, 2, 7), (1, 10)])
def test_c2_softmax_in_open_unit_interval_and_sums_to_one(shape):
    rng = np.random.default_rng(len(shape) * 10 + shape[-1])
    z = rng.normal(size=shape) * 5  # spreads well below 37, where float64 could round to 0 or 1
    p = softmax(z)
    assert p.shape == z.shape
    assert np.all(p > 0) and np.all(p < 1)
    assert np.allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.array_equal(np.argsort(z, axis=-1), np.argsort(p, axis=-1))  # order kept


def test_c2_float64_rounds_to_exact_zero_and_one_for_large_spreads():
    p = softmax(np.array([0.0, 40.0]))
    assert p[1] == 1.0 and 0 < p[0] < 1e-17
    p = softmax(np.array([0.0, 800.0]))
    assert p[0] == 0.0 and p[1] == 1.0
    assert np.all(np.isfinite(log_softmax(np.array([1e4, 0.0, -1e4]))))
    assert np.allclose(log_softmax(np.array([1e4, 0.0, -1e4])), [0.0, -1e4, -2e4])


def test_c2_naive_formula_overflows_and_the_max_shift_fixes_it():
    for z in ([1000.0, 999.0, 998.0], [-1000.0, -999.0, -998.0]):
        t = overflow_table(z)
        assert np.all(np.isnan(t["naive"]))
        assert np.all(t["exp_shifted"] <= 1.0) and t["exp_shifted"].max() == 1.0
        assert np.allclose(t["stable"], softmax(np.array([2.0, 1.0, 0.0]) * np.sign(z[0])), rtol=1e-12)
    assert np.isinf(overflow_table([710.0])["exp_z"][0])
    z = np.random.default_rng(0).normal(size=(3, 4))
    assert np.allclose(softmax(z + 123.4), softmax(z), rtol=1e-12)
    assert np.allclose(naive_softmax(z), softmax(z), rtol=1e-12)  # fine for small logits


@pytest.mark.parametrize("n,c", [(1, 3), (3, 4), (6, 10)])
def test_c2_ce_softmax_gradient_is_p_minus_y(n, c):
    rng = np.random.default_rng(n * c)
    logits, labels = rng.normal(size=(n, c)) * 3, rng.integers(0, c, size=n)
    g = gradient_three_ways(logits, labels)
    onehot = np.eye(c)[labels]
    assert np.allclose(g["formula"], (softmax(logits) - onehot) / n, rtol=1e-12)
    assert np.allclose(g["reference"], g["formula"], rtol=1e-10, atol=1e-15)
    assert np.allclose(g["chain"], g["formula"], rtol=1e-9, atol=1e-15)
    assert np.allclose(g["numerical"], g["formula"], rtol=1e-5, atol=1e-9)
    assert np.allclose(g["formula"].sum(axis=1), 0, atol=1e-15)


def test_c2_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    logits, labels = rng.normal(size=(5, 4)) * 4, rng.integers(0, 4, size=5)
    t = torch.tensor(logits, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(t, torch.tensor(labels))
    (g,) = torch.autograd.grad(loss, t)
    assert cross_entropy(logits, labels) == pytest.approx(loss.item(), rel=1e-12)
    assert np.allclose(cross_entropy_grad(logits, labels), g.numpy(), rtol=1e-10, atol=1e-15)


def test_c2_pairing_ce_gradient_does_not_vanish_mse_does():
    t = pairing_table([0.0, 5.0, 10.0, 20.0])
    assert np.all(np.diff(t["p_true"]) < 0)                      # more and more confidently wrong
    assert t["ce_grad"][2] == pytest.approx(np.sqrt(2), rel=1e-4)  # ‖p − y‖ → ‖e0 − e1‖
    assert np.all(t["ce_grad"][1:] > 1.39)
    assert t["mse_grad"][2] < 2e-4 and t["mse_grad"][3] < 1e-8    # vanishes like e^(−m)
    assert t["ce_grad"][2] / t["mse_grad"][2] > 1.2e4            # the notebook's "about 12,000 times"
    assert np.allclose(t["ce"][2:], t["margin"][2:], rtol=1e-3)   # CE grows linearly with the margin
    assert np.all(t["mse"] <= 2 / 3 + 1e-12)                      # MSE is capped


def test_c2_temperature_sharpens_flattens_and_keeps_the_order():
    z = np.array([2.0, 1.0, 0.1, -1.0])
    rows = {T: softmax(z / T) for T in (0.01, 0.25, 1.0, 4.0, 100.0)}
    assert np.allclose(rows[0.01], [1, 0, 0, 0], atol=5e-5)        # T → 0: one-hot on the arg max
    assert np.allclose(rows[100.0], 0.25, atol=0.005)               # T → ∞: uniform
    for p in rows.values():
        assert np.array_equal(np.argsort(p), np.argsort(z))        # order kept
    tops = [rows[T][0] for T in (0.01, 0.25, 1.0, 4.0, 100.0)]
    assert all(a > b for a, b in zip(tops, tops[1:]))               # larger T, flatter distribution


def _rel(a, b):
    """Exercise 4's rel_error, written out: max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-12)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def test_c2_gradient_check_tells_right_from_wrong():
    # the checker section's table: N(0, 1) logits, 4 x 5, seed 5
    t = gradient_check_table()
    assert t["correct"] < 1e-7 and f"{t['correct']:.1e}" == "2.8e-10"
    assert t["no_1_over_n"] == pytest.approx(3 / 5, rel=1e-6) and t["no_1_over_n"] > 1e-2   # (N - 1)/(N + 1), N = 4
    assert f"{t['forward_difference']:.1e}" == "2.4e-06" and t["forward_difference"] > 100 * t["correct"]
    # the 1/N forgotten gives (N - 1)/(N + 1) in every entry, not only the worst
    rng = np.random.default_rng(5)
    logits, labels = rng.normal(size=(4, 5)), rng.integers(0, 5, size=4)
    g = cross_entropy_grad(logits, labels)
    num = numerical_gradient(lambda z: cross_entropy(z, labels), logits.copy())
    per_entry = np.abs(4 * g - num) / (np.abs(4 * g) + np.abs(num))
    assert np.allclose(per_entry, 0.6, atol=1e-5)
    # larger logits (sd 3, seed 3): the right gradient scores 3.3e-4 because of a tiny entry
    t = gradient_check_table(seed=3, scale=3.0)
    assert f"{t['correct']:.1e}" == "3.3e-04" and 1e-7 < t["correct"] < 1e-3
    assert f"{t['worst_entry']:.1e}" == "2.7e-08" and f"{t['worst_abs_diff']:.1e}" == "1.8e-11"
    assert t["no_1_over_n"] == pytest.approx(0.6, abs=1e-3)


def test_c2_central_difference_of_a_cubic_is_exactly_3x2_plus_h2():
    x = np.random.default_rng(1).normal(size=(3, 4))
    for h in (1e-2, 1e-3):
        num = numerical_gradient(lambda v: float(np.sum(v ** 3)), x.copy(), h=h)
        assert np.allclose(num, 3 * x ** 2 + h ** 2, rtol=1e-9, atol=1e-11)
    # so with h = 1e-2 the step shows: an ignored h (1e-5 instead) is off by about 1e-4 everywhere
    ignored = numerical_gradient(lambda v: float(np.sum(v ** 3)), x.copy(), h=1e-5)
    assert np.allclose(3 * x ** 2 + 1e-4 - ignored, 1e-4, rtol=1e-3)


def test_c2_rel_error_is_zero_for_equal_arrays_and_at_most_one():
    rng = np.random.default_rng(2)
    for _ in range(20):
        a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
        assert 0 <= _rel(a, b) <= 1
        assert _rel(a, a) == 0.0
    assert _rel([2.0, 1.0], [-2.0, 1.0]) == 1.0          # a_i = -b_i != 0
    assert _rel([1.0, 2.0], [1.1, 2.0]) == pytest.approx(0.1 / 2.1)
    with np.errstate(all="raise"):
        assert _rel(np.zeros(3), np.zeros(3)) == 0.0     # the floor keeps 0/0 away


def test_c2_the_suggested_checks_of_exercises_5_and_6_pass_below_1e7():
    # exercise 5's suggestion, with the reference in place of the student's functions
    logits, labels = np.random.default_rng(0).normal(size=(4, 5)), np.array([1, 0, 4, 2])
    err = _rel(cross_entropy_grad(logits, labels), numerical_gradient(lambda z: cross_entropy(z, labels), logits.copy()))
    assert err < 1e-7 and f"{err:.0e}" == "4e-10"
    # exercise 6's: L = sum(out * dout) has gradients dx, dw, db
    for seed in range(5):
        rng = np.random.default_rng(seed)
        x, w, b, dout = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(4, 5))
        dx, dw, db = linear_backward(dout, linear_forward(x, w, b)[1])
        assert _rel(dx, numerical_gradient(lambda v: float(np.sum(linear_forward(v, w, b)[0] * dout)), x.copy())) < 1e-7
        assert _rel(dw, numerical_gradient(lambda v: float(np.sum(linear_forward(x, v, b)[0] * dout)), w.copy())) < 1e-7
        assert _rel(db, numerical_gradient(lambda v: float(np.sum(linear_forward(x, w, v)[0] * dout)), b.copy())) < 1e-7


def test_c2_affine_worked_examples():
    x, w, b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [0.0, -1.0], [1.0, 1.0]]), np.array([0.5, 0.0, -1.0])
    out, cache = linear_forward(x, w, b)
    assert np.allclose(out, [[11.5, -2.0, 2.0]])
    dx, dw, db = linear_backward(np.array([[1.0, 0.0, -1.0]]), cache)
    assert np.allclose(dx, [[2.0, 3.0]]) and np.allclose(dw, [[1.0, 2.0], [0.0, 0.0], [-1.0, -2.0]])
    assert np.allclose(db, [1.0, 0.0, -1.0])


def test_c2_linear_softmax_classifier_on_the_digits():
    r = linear_softmax_digits()
    assert r["error"] is None and len(r["loss"]) == 201
    assert abs(r["loss"][0] - np.log(10)) < 0.01                  # "starts at log 10 ≈ 2.30"
    assert f"{r['loss'][-1]:.2f}" == "0.13" and np.all(np.diff(r["loss"]) < 0)
    assert f"{r['train_acc']:.1%}" == "98.2%" and f"{r['test_acc']:.1%}" == "93.3%"
    from dlcore.data import load_digits, train_val_test_split
    s = train_val_test_split(*load_digits(), 0)
    assert len(s.X_train) == 1259 and len(s.X_test) == 269


def test_c2_linear_softmax_runs_the_students_functions_or_says_why_not():
    def fwd(x, w, b):
        return np.einsum("nd,md->nm", x, w) + b

    def bwd(dout, x, w):
        return dout @ w, dout.T @ x, dout.sum(axis=0)

    ref, mine = linear_softmax_digits(steps=20), linear_softmax_digits(fwd, bwd, cross_entropy_grad, steps=20)
    assert np.allclose(mine["w"], ref["w"], rtol=0, atol=1e-12) and mine["test_acc"] == ref["test_acc"]

    def unfinished(*args):
        raise NotImplementedError()

    r = linear_softmax_digits(fwd, unfinished, cross_entropy_grad, steps=5)
    assert r["error"] == "NotImplementedError" and r["w"] is None
    wrong = linear_softmax_digits(fwd, lambda d, x, w: (d @ w, d.T @ x, d.mean(axis=0)), cross_entropy_grad, steps=20)
    assert not np.allclose(wrong["b"], ref["b"])                   # the run follows the functions it is given
