"""Chapter 7's claims as numbers (C15): channels, the output-size formula, parameter-free pooling.

C15 output channels equal the number of kernels, the output size follows
floor((H + 2P - K)/S) + 1, and pooling has no parameters. Also: a kernel has one layer per
input channel and the channel sum is inside the convolution; the softmax head gives
probabilities that sum to 1 from a small CNN that learns the real digits.
"""
import numpy as np
import pytest

from dlcore import conv, data, nn, optim, pooling, train
from dlcore.chapters.ch07 import kernel_bank, load_input


@pytest.fixture(scope="module")
def photo():
    return load_input(32)


def test_photo_is_a_three_channel_input(photo):
    assert photo.shape == (1, 3, 32, 32)
    assert 0.0 <= photo.min() and photo.max() <= 1.0
    # the three channels differ: it is a colour photograph, not grey copied three times
    assert np.abs(photo[0, 0] - photo[0, 2]).mean() > 0.02


@pytest.mark.parametrize("F", [1, 2, 5])
def test_c15_output_channels_equal_number_of_kernels(photo, F):
    rng = np.random.default_rng(F)
    w = rng.normal(size=(F, 3, 3, 3))
    out, _ = conv.conv2d_forward(photo, w, np.zeros(F))
    assert out.shape == (1, F, 30, 30)


def test_kernel_needs_one_layer_per_input_channel(photo):
    with pytest.raises(ValueError, match="conv2d_forward"):
        conv.conv2d_forward(photo, np.ones((2, 4, 3, 3)), None)


def test_channel_sum_is_inside_the_convolution(photo):
    w, _ = kernel_bank("edge", 4)
    z, _ = conv.conv2d_forward(photo, w, np.zeros(4))
    for f in range(4):
        parts = sum(conv.conv2d_forward(photo[:, c:c + 1], w[f:f + 1, c:c + 1], None)[0] for c in range(3))
        np.testing.assert_allclose(z[:, f:f + 1], parts, atol=1e-12)
    # the "R only" kernel ignores G and B: changing them leaves its output unchanged
    x2 = photo.copy()
    x2[:, 1:] = 0.0
    np.testing.assert_allclose(conv.conv2d_forward(x2, w[3:4], None)[0], z[:, 3:4], atol=1e-12)


@pytest.mark.parametrize("H,K,S,P", [(64, 3, 1, 0), (64, 3, 1, 1), (64, 3, 2, 0), (64, 3, 2, 1),
                                     (64, 3, 3, 1), (64, 3, 4, 0), (7, 5, 2, 2), (8, 1, 3, 0)])
def test_c15_output_size_formula(H, K, S, P):
    rng = np.random.default_rng(H + K + S + P)
    x = rng.normal(size=(1, 2, H, H))
    out, _ = conv.conv2d_forward(x, rng.normal(size=(3, 2, K, K)), None, stride=S, padding=P)
    expected = (H + 2 * P - K) // S + 1
    assert out.shape == (1, 3, expected, expected)
    assert conv.conv_output_size(H, K, S, P) == expected


def test_stride_shrinks_the_output():
    sizes = [conv.conv_output_size(64, 3, S, 1) for S in (1, 2, 3, 4)]
    assert sizes == [64, 32, 22, 16]


def test_c15_pooling_has_no_parameters_and_shrinks_by_k():
    for layer in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.MaxPool2d(3, 2)):
        assert layer.parameters() == [] and layer.num_parameters() == 0
    conv_layer = nn.Conv2d(3, 4, 3, rng=np.random.default_rng(0))
    assert conv_layer.num_parameters() == 4 * 3 * 3 * 3 + 4
    x = np.random.default_rng(1).normal(size=(2, 4, 31, 30))
    assert pooling.max_pool2d_forward(x, 2)[0].shape == (2, 4, 15, 15)
    assert pooling.avg_pool2d_forward(x, 3, 2)[0].shape == (2, 4, 15, 14)


def test_pooling_worked_example():
    m = np.array([[1., 3., 2., 0.], [4., 2., 1., 5.], [0., 1., 6., 2.], [2., 7., 3., 1.]])[None, None]
    np.testing.assert_allclose(pooling.max_pool2d_forward(m, 2)[0][0, 0], [[4, 5], [7, 6]])
    np.testing.assert_allclose(pooling.avg_pool2d_forward(m, 2)[0][0, 0], [[2.5, 2.0], [2.5, 3.0]])


def test_relu_zeroes_negative_responses(photo):
    w, _ = kernel_bank("edge", 4)
    z, _ = conv.conv2d_forward(photo, w, np.zeros(4))
    a = np.maximum(z, 0)
    frac = (a == 0).mean(axis=(0, 2, 3))
    np.testing.assert_allclose(frac, (z <= 0).mean(axis=(0, 2, 3)))
    assert np.all((frac > 0.1) & (frac < 0.9))  # edges have both signs


def test_small_cnn_with_softmax_head_learns_digits():
    """The notebook's model and schedule: 10 epochs of Adam reach > 0.95 test accuracy."""
    X, y = data.load_digits(images=True)
    split = data.train_val_test_split(X, y, rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10, rng=rng))
    w0 = model[0].weight.copy()
    hist = train.fit(model, split.X_train, split.y_train, optimizer=optim.Adam(model.parameters(), lr=0.01),
                     epochs=10, batch_size=32, rng=rng, X_val=split.X_val, y_val=split.y_val, progress=False)
    _, acc = train.evaluate(model, split.X_test, split.y_test)
    assert acc > 0.95
    assert hist.train_loss[-1] < hist.train_loss[0]
    probs = train.predict_proba(model, split.X_test[:8])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    # kernels are learned: training moved them
    assert np.abs(model[0].weight - w0).max() > 0.05


def test_written_answer_parameter_counts():
    """16 kernels 5×5 on the photo: (16, 3, 5, 5), 1,216 parameters, 16 channels of 60×60."""
    layer = nn.Conv2d(3, 16, 5, rng=np.random.default_rng(0))
    assert layer.weight.shape == (16, 3, 5, 5) and layer.num_parameters() == 1216
    x = np.zeros((1, 3, 64, 64))
    assert layer.forward(x).shape == (1, 16, 60, 60)
    fc_weights = (64 * 64 * 3) * (16 * 60 * 60)
    assert fc_weights == 707_788_800 and round(fc_weights / 1216, -4) == 580_000


def test_max_pooling_beats_average_pooling_on_the_digits_with_every_seed():
    """Section 7: the notes' 'max pooling usually works better', tested with the same seeds."""
    from dlcore.chapters import ch07 as chapter

    r = chapter.pooling_comparison(seeds=(0, 1, 2), epochs=10)
    assert np.all(r["max"]["test_acc"] > r["avg"]["test_acc"])
    assert r["max"]["test_acc"].mean() == pytest.approx(0.96, abs=0.01)
    assert r["avg"]["test_acc"].mean() == pytest.approx(0.93, abs=0.01)
    assert r["max"]["test_loss"].mean() < r["avg"]["test_loss"].mean()
    assert r["max"]["val_acc"].shape == (3, 10)
