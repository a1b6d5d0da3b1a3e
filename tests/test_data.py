"""dlcore.data: shipped digits, the photograph, toy sets and the split; all offline."""
import socket
import subprocess
import sys

import numpy as np
import pytest

from dlcore import data


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("dlcore.data tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    data._digits_raw.cache_clear()
    data._photo.cache_clear()
    yield
    data._digits_raw.cache_clear()
    data._photo.cache_clear()


def test_digits_shapes_values_and_labels(no_network):
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    # first row of the UCI file: a zero, pixel counts out of 16
    np.testing.assert_allclose(X[0, :8] * 16, [0, 0, 5, 13, 9, 1, 0, 0])
    assert y[0] == 0 and y[1] == 1
    np.testing.assert_array_equal(X * 16, np.round(X * 16))   # counts 0..16, exactly


def test_digits_images_and_dtype():
    imgs, y = data.load_digits(images=True, dtype=np.float32)
    assert imgs.shape == (1797, 1, 8, 8) and imgs.dtype == np.float32
    X, _ = data.load_digits()
    np.testing.assert_allclose(imgs.reshape(1797, 64), X, rtol=1e-7)
    X[:] = -1                               # callers get fresh arrays
    assert data.load_digits()[0].min() == 0.0


def test_licence_file_ships():
    text = (data.DATA_DIR / "LICENSE-digits.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "UCI" in text


def test_photo_full_and_resized(no_network):
    img = data.load_photo()
    assert img.shape == (3, 600, 512) and img.dtype == np.float64
    assert 0.0 <= img.min() and img.max() <= 1.0 and img.std() > 0.1
    assert not np.allclose(img[0], img[2])          # a colour photograph, not grey
    half = data.load_photo((300, 256))
    np.testing.assert_allclose(half, img.reshape(3, 300, 2, 256, 2).mean(axis=(2, 4)), atol=1e-12)
    small = data.load_photo(64, dtype=np.float32)
    assert small.shape == (3, 64, 64) and small.dtype == np.float32
    assert 0.0 <= small.min() and small.max() <= 1.0
    # area averaging keeps the mean brightness of every channel
    np.testing.assert_allclose(small.mean(axis=(1, 2)), img.mean(axis=(1, 2)), rtol=1e-6)
    small[:] = 0
    assert data.load_photo(64).max() > 0            # the cache hands out copies


def test_area_matrix_rows_and_columns():
    A = data._area_matrix(10, 3)
    np.testing.assert_allclose(A.sum(axis=1), 1.0)
    np.testing.assert_allclose(A.sum(axis=0), 0.3)    # every input pixel counts equally
    np.testing.assert_allclose(A[0, :4], [0.3, 0.3, 0.3, 0.1])


def test_import_does_not_load_matplotlib():
    code = "import sys, dlcore.data; assert 'matplotlib' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok" and out.stderr == ""


@pytest.mark.parametrize("make", [data.make_spirals, data.make_moons, data.make_blobs])
def test_toys_shapes_and_determinism(make, no_network):
    X, y = make(150, rng=np.random.default_rng(3))
    assert X.shape == (150, 2) and X.dtype == np.float64 and y.shape == (150,) and y.dtype == np.int64
    X2, y2 = make(150, rng=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(150, rng=4)
    assert not np.allclose(X, X3)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1


def test_toy_geometry_without_noise():
    X, y = data.make_moons(100, noise=0.0, rng=0)
    r0 = np.hypot(X[y == 0, 0], X[y == 0, 1])
    r1 = np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5)
    np.testing.assert_allclose(r0, 1.0)
    np.testing.assert_allclose(r1, 1.0)
    X, y = data.make_spirals(90, n_classes=3, noise=0.0, rng=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() == 0.0 and r.max() == pytest.approx(1.0)
    assert set(np.unique(y)) == {0, 1, 2}
    X, y = data.make_blobs(300, centers=[[0, 0], [10, 10]], std=0.5, rng=0)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [10, 10], atol=0.15)


def test_split_sizes_disjoint_and_stratified():
    X, y = data.load_digits()
    idx = np.arange(len(y))
    s = data.train_val_test_split(idx, y, rng=np.random.default_rng(0), val_frac=0.2, test_frac=0.2)
    parts = [s.X_train, s.X_val, s.X_test]
    assert sum(len(p) for p in parts) == len(y)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), idx)
    for p, labels in ((s.X_train, s.y_train), (s.X_val, s.y_val), (s.X_test, s.y_test)):
        np.testing.assert_array_equal(y[p], labels)
    assert abs(len(s.X_test) - 0.2 * len(y)) <= 10
    # each class is split 60/20/20 (within one sample)
    full = np.bincount(y)
    assert np.abs(np.bincount(s.y_test) - 0.2 * full).max() <= 1
    again = data.train_val_test_split(idx, y, rng=0, val_frac=0.2, test_frac=0.2)
    np.testing.assert_array_equal(again.X_test, s.X_test)


def test_errors():
    with pytest.raises(ValueError, match="make_moons: rng must be"):
        data.make_moons(10, rng=None)
    with pytest.raises(ValueError, match="make_spirals: n_samples"):
        data.make_spirals(0, rng=0)
    with pytest.raises(ValueError, match="train_val_test_split: X and y must have the same length"):
        data.train_val_test_split(np.zeros(3), np.zeros(4), rng=0)
    with pytest.raises(ValueError, match="val_frac \\+ test_frac"):
        data.train_val_test_split(np.zeros(4), np.zeros(4), rng=0, val_frac=0.5, test_frac=0.5)
    with pytest.raises(ValueError, match="load_photo: size"):
        data.load_photo(size="big")
