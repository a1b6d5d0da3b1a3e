"""dlcore.train: the fit loop, schedules, early stopping, and a CNN on the real digits."""
import time

import numpy as np
import pytest

from dlcore import nn, optim
from dlcore.data import load_digits, make_blobs, train_val_test_split
from dlcore.regularization import EarlyStopping
from dlcore.train import evaluate, fit, predict, predict_proba


def _mlp(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(2, 16, rng=rng), nn.ReLU(), nn.Linear(16, 3, rng=rng))


def _blobs():
    X, y = make_blobs(300, centers=[[-3, 0], [3, 0], [0, 4]], std=0.8, rng=0)
    return X[:240], y[:240], X[240:], y[240:]


def test_fit_learns_blobs_and_records_history(capsys):
    X, y, Xv, yv = _blobs()
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.StepLR(opt, step_size=5, gamma=0.5)
    h = fit(model, X, y, optimizer=opt, epochs=12, batch_size=32, rng=np.random.default_rng(1),
            X_val=Xv, y_val=yv, scheduler=sched, progress=False)
    assert h.epochs == 12
    assert len(h.train_loss) == len(h.val_loss) == len(h.train_acc) == len(h.val_acc) == len(h.lr) == 12
    np.testing.assert_allclose(h.lr, [0.1] * 5 + [0.05] * 5 + [0.025] * 2)
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]
    assert h.val_acc[-1] >= 0.95
    loss, acc = evaluate(model, Xv, yv)
    assert loss == pytest.approx(h.val_loss[-1], rel=1e-12) and acc == h.val_acc[-1]
    assert h.best_epoch == int(np.argmin(h.val_loss))
    assert capsys.readouterr().err == ""          # progress=False prints nothing


def test_fit_is_deterministic_given_rng():
    X, y, Xv, yv = _blobs()
    runs = []
    for _ in range(2):
        model = _mlp(seed=3)
        opt = optim.Adam(model.parameters(), lr=0.01)
        runs.append(fit(model, X, y, optimizer=opt, epochs=3, batch_size=16,
                        rng=np.random.default_rng(7), progress=False))
    assert runs[0].train_loss == runs[1].train_loss
    assert np.isnan(runs[0].val_loss).all()


def test_one_full_batch_epoch_is_one_gradient_step():
    X, y, _, _ = _blobs()
    model = _mlp(seed=4)
    w_before = [p.copy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=0.5)
    fit(model, X, y, optimizer=opt, epochs=1, batch_size=len(X), rng=np.random.default_rng(0),
        progress=False)
    # the same step by hand: forward on all data (order does not change a mean loss)
    from dlcore.losses import cross_entropy_grad
    ref = _mlp(seed=4)
    out = ref.forward(X)
    ref.backward(cross_entropy_grad(out, y))
    for w0, g, w in zip(w_before, ref.grads(), model.parameters()):
        np.testing.assert_allclose(w, w0 - 0.5 * g, rtol=1e-10, atol=1e-12)


def test_early_stopping_stops_and_restores_best_weights():
    X, y, Xv, _ = _blobs()
    yv_shuffled = np.random.default_rng(0).permutation(len(Xv)) % 3   # labels it cannot learn
    model = _mlp(seed=5)
    opt = optim.Adam(model.parameters(), lr=0.05)
    es = EarlyStopping(patience=3)
    h = fit(model, X, y, optimizer=opt, epochs=60, batch_size=32, rng=np.random.default_rng(2),
            X_val=Xv, y_val=yv_shuffled, early_stopping=es, progress=False)
    assert h.stopped_early and h.epochs < 60
    assert h.epochs - 1 - h.best_epoch == 3
    loss, _ = evaluate(model, Xv, yv_shuffled)
    assert loss == pytest.approx(h.val_loss[h.best_epoch], rel=1e-12)


def test_predict_and_modes():
    X, y, Xv, yv = _blobs()
    rng = np.random.default_rng(6)
    model = nn.Sequential(nn.Linear(2, 8, rng=rng), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Dropout(0.2, rng=rng), nn.Linear(8, 3, rng=rng))
    fit(model, X, y, optimizer=optim.Adam(model.parameters(), lr=0.02), epochs=5, batch_size=32,
        rng=rng, progress=False)
    assert model.training
    p = predict_proba(model, Xv, batch_size=7)
    assert p.shape == (60, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(predict(model, Xv), p.argmax(axis=1))
    np.testing.assert_array_equal(predict_proba(model, Xv), p)     # eval mode: deterministic
    assert model.training                                           # mode restored


def test_progress_bar_runs(capsys):
    X, y, _, _ = _blobs()
    model = _mlp()
    fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=64,
        rng=np.random.default_rng(0), progress=True)
    assert "fit" in capsys.readouterr().err        # tqdm's text bar in a terminal


def test_eval_train_measures_the_training_set_like_the_validation_set():
    X, y, Xv, yv = _blobs()
    rng = np.random.default_rng(2)
    model = nn.Sequential(nn.Linear(2, 16, rng=rng), nn.ReLU(), nn.Dropout(0.5, rng=rng), nn.Linear(16, 3, rng=rng))
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, X, y, optimizer=opt, epochs=3, rng=rng, X_val=Xv, y_val=yv, eval_train=True, progress=False)
    loss, acc = evaluate(model, X, y)          # the last epoch's weights, in evaluation mode
    assert h.train_loss[-1] == pytest.approx(loss, rel=1e-12) and h.train_acc[-1] == acc
    # without it, the training numbers are the running means over the epoch's mini-batches
    model2 = nn.Sequential(nn.Linear(2, 16, rng=np.random.default_rng(2)), nn.ReLU(),
                           nn.Dropout(0.5, rng=np.random.default_rng(3)), nn.Linear(16, 3, rng=np.random.default_rng(4)))
    h2 = fit(model2, X, y, optimizer=optim.SGD(model2.parameters(), lr=0.1), epochs=3, rng=np.random.default_rng(5),
             progress=False)
    assert h2.train_loss[-1] != pytest.approx(evaluate(model2, X, y)[0], rel=1e-6)


def test_callback_sees_every_epoch_and_can_end_the_run():
    X, y, _, _ = _blobs()
    model = _mlp()
    seen = []

    def stop_after_two(epoch, history):
        seen.append((epoch, history.epochs))
        return epoch == 1

    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=10,
            rng=np.random.default_rng(0), callback=stop_after_two, progress=False)
    assert seen == [(0, 1), (1, 2)] and h.epochs == 2
    assert h.stopped_by_callback and not h.stopped_early
    with pytest.raises(ValueError, match="fit: callback must be a function"):
        fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=1,
            rng=np.random.default_rng(0), callback=3, progress=False)


def test_errors():
    X, y, _, _ = _blobs()
    model = _mlp()
    other = optim.SGD(_mlp().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="fit: the optimizer does not hold this model's parameters"):
        fit(model, X, y, optimizer=other, epochs=1, rng=np.random.default_rng(0), progress=False)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="fit: loss must be one of"):
        fit(model, X, y, loss="hinge", optimizer=opt, epochs=1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="fit: rng must be"):
        fit(model, X, y, optimizer=opt, epochs=1, rng=0)


@pytest.mark.slow
def test_small_cnn_reaches_97_percent_on_real_digits():
    X, y = load_digits(images=True)
    s = train_val_test_split(X, y, rng=np.random.default_rng(0), val_frac=0.1, test_frac=0.2)
    mean, std = s.X_train.mean(), s.X_train.std()      # standardise with training statistics
    X_train, X_val, X_test = ((a - mean) / std for a in (s.X_train, s.X_val, s.X_test))
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3, rng=rng), nn.Linear(32 * 4 * 4, 10, rng=rng),
    )
    opt = optim.Adam(model.parameters(), lr=5e-3)
    t0 = time.perf_counter()
    h = fit(model, X_train, s.y_train, optimizer=opt, epochs=20, batch_size=32, rng=rng,
            X_val=X_val, y_val=s.y_val, scheduler=optim.StepLR(opt, step_size=12, gamma=0.3),
            progress=False)
    seconds = time.perf_counter() - t0
    _, test_acc = evaluate(model, X_test, s.y_test)
    print(f"\ndigits CNN: {h.epochs} epochs in {seconds:.1f} s, val acc {h.val_acc[-1]:.3f}, "
          f"test acc {test_acc:.4f} on {len(s.y_test)} test digits")
    # Measured: 0.978 here; 0.978-0.992 (mean 0.985) over 3 splits x 3 initialisations.
    assert test_acc >= 0.97
