"""kerasish.utils.plotting: every helper writes a PNG, and rejects bad input with a clear message."""

import sys

import numpy as np
import pytest

import kerasish as keras
from kerasish.utils import plotting

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    with open(path, "rb") as f:
        head = f.read(8)
    assert head == PNG_MAGIC
    assert len(open(path, "rb").read()) > 1000


class _History:  # what fit returns, as far as plot_history cares
    def __init__(self, logs):
        self.history = logs


class _Probabilities:
    """A stand-in model for plot_decision_boundary: P(class 1) = sigmoid(x0 - x1)."""

    def __init__(self, columns=1):
        self.columns = columns

    def predict(self, x, batch_size=None, verbose=0):
        p = 1 / (1 + np.exp(-(x[:, 0] - x[:, 1])))
        return p[:, None] if self.columns == 1 else np.stack([1 - p, p], axis=1)


def test_exported_from_keras_utils():
    for name in plotting.__all__:
        assert getattr(keras.utils, name) is getattr(plotting, name)
        assert name in keras.utils.__all__


# -- plot_history ---------------------------------------------------------------------------

def test_plot_history_accepts_a_history_and_a_dict(tmp_path):
    logs = {"accuracy": [0.5, 0.7, 0.8], "loss": [1.0, 0.6, 0.4], "val_accuracy": [0.5, 0.6, 0.65],
            "val_loss": [1.1, 0.8, 0.9]}
    assert plotting.plot_history(_History(logs), tmp_path / "h.png") == str(tmp_path / "h.png")
    assert_png(tmp_path / "h.png")
    plotting.plot_history(logs, tmp_path / "sub" / "dir" / "loss.png", metrics=["loss"])
    assert_png(tmp_path / "sub" / "dir" / "loss.png")


def test_plot_history_of_a_real_fit(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=2, verbose=0,
                        validation_split=0.25)
    assert_png(plotting.plot_history(history, tmp_path / "fit.png"))


def test_plot_history_errors(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_history({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"\['accuracy'\] are not in the history, which has \['loss'\]"):
        plotting.plot_history({"loss": [1.0]}, tmp_path / "x.png", metrics=["accuracy"])
    with pytest.raises(TypeError, match="Received: list"):
        plotting.plot_history([1.0, 2.0], tmp_path / "x.png")
    with pytest.raises(ValueError, match="non-empty 1-D sequence"):
        plotting.plot_history({"loss": []}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="image file"):
        plotting.plot_history({"loss": [1.0]}, tmp_path / "no_suffix")
    assert not list(tmp_path.iterdir())


# -- plot_curves ----------------------------------------------------------------------------

def test_plot_curves_one_panel_and_panels(tmp_path):
    plotting.plot_curves({"SGD": [2.0, 1.0, 0.5], "Adam": [1.0, 0.3, 0.1]}, tmp_path / "one.png",
                         ylabel="loss", logy=True, title="t")
    assert_png(tmp_path / "one.png")
    panels = {name: {"training": np.linspace(1, 0, 40), "validation": np.linspace(1, 0.5, 40)}
              for name in ("a", "b", "c", "d")}
    plotting.plot_curves(panels, tmp_path / "four.png", sharey=True, ylabel="loss")
    assert_png(tmp_path / "four.png")


def test_plot_curves_errors(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        plotting.plot_curves({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="not a mixture"):
        plotting.plot_curves({"a": [1.0], "panel": {"b": [1.0]}}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="series 'a'.*shape \\(2, 2\\)"):
        plotting.plot_curves({"a": [[1.0, 2.0], [3.0, 4.0]]}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="Panel 'p' has no series"):
        plotting.plot_curves({"p": {}}, tmp_path / "x.png")


# -- plot_gradient_norms --------------------------------------------------------------------

def test_plot_gradient_norms(tmp_path):
    norms = {"sigmoid": [1e-5, 1e-3, 1e-1], "relu": [1e-2, 1e-2, 1e-2]}
    plotting.plot_gradient_norms(norms, tmp_path / "g.png", layer_names=["1", "2", "output"])
    assert_png(tmp_path / "g.png")


def test_plot_gradient_norms_errors(tmp_path):
    with pytest.raises(ValueError, match="same number of layers"):
        plotting.plot_gradient_norms({"a": [1.0, 2.0], "b": [1.0]}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="finite and positive"):
        plotting.plot_gradient_norms({"a": [1.0, 0.0]}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="Expected 2 layer names. Received 3"):
        plotting.plot_gradient_norms({"a": [1.0, 2.0]}, tmp_path / "x.png", layer_names=["1", "2", "3"])
    with pytest.raises(ValueError, match="non-empty dict"):
        plotting.plot_gradient_norms([], tmp_path / "x.png")


# -- plot_decision_boundary -----------------------------------------------------------------

@pytest.mark.parametrize("columns", [1, 2])
def test_plot_decision_boundary(tmp_path, columns):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, (50, 2))
    y = (x[:, 0] > x[:, 1]).astype(int)
    labels = y if columns == 1 else keras.utils.to_categorical(y, 2)
    plotting.plot_decision_boundary(_Probabilities(columns), x, labels, tmp_path / "b.png", resolution=30,
                                    feature_names=("studied", "slept"), class_names=("fail", "pass"))
    assert_png(tmp_path / "b.png")


def test_plot_decision_boundary_of_a_real_model(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    x = np.random.default_rng(0).normal(size=(20, 2)).astype("float32")
    assert_png(plotting.plot_decision_boundary(model, x, x[:, 0] > 0, tmp_path / "b.png", resolution=20))


def test_plot_decision_boundary_errors(tmp_path):
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"expected `x` of shape \(n, 2\). Received shape \(5, 3\)"):
        plotting.plot_decision_boundary(_Probabilities(), np.zeros((5, 3)), np.zeros(5), tmp_path / "x.png")
    with pytest.raises(ValueError, match="`y` has 4 labels for 5 points"):
        plotting.plot_decision_boundary(_Probabilities(), x, np.zeros(4), tmp_path / "x.png")
    with pytest.raises(ValueError, match="resolution"):
        plotting.plot_decision_boundary(_Probabilities(), x, np.zeros(5), tmp_path / "x.png", resolution=1)

    class TenClasses:
        def predict(self, x, batch_size=None, verbose=0):
            return np.zeros((len(x), 10))

    with pytest.raises(ValueError, match=r"one probability .* Received output of shape \(\d+, 10\)"):
        plotting.plot_decision_boundary(TenClasses(), x, np.zeros(5), tmp_path / "x.png", resolution=5)


# -- plot_filters and plot_feature_maps -----------------------------------------------------

def test_plot_filters(tmp_path):
    kernel = np.random.default_rng(0).normal(size=(3, 3, 1, 32))
    assert_png(plotting.plot_filters(kernel, tmp_path / "f.png", title="filters"))
    assert_png(plotting.plot_filters(np.ones((5, 5, 3, 6)), tmp_path / "rgb.png"))  # constant: no zero range


def test_plot_filters_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\(kernel_h, kernel_w, in_channels, filters\). Received shape \(3, 3, 32\)"):
        plotting.plot_filters(np.zeros((3, 3, 32)), tmp_path / "x.png")


@pytest.mark.parametrize("shape", [(26, 26, 32), (1, 26, 26, 32), (26, 26, 5)])
def test_plot_feature_maps(tmp_path, shape):
    maps = np.random.default_rng(0).uniform(size=shape)
    assert_png(plotting.plot_feature_maps(maps, tmp_path / "m.png", image=np.zeros((28, 28, 1)), title="maps"))


def test_plot_feature_maps_errors(tmp_path):
    with pytest.raises(ValueError, match=r"feature maps of one input.*Received shape \(2, 26, 26, 32\)"):
        plotting.plot_feature_maps(np.zeros((2, 26, 26, 32)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="one grey image"):
        plotting.plot_feature_maps(np.zeros((26, 26, 4)), tmp_path / "x.png", image=np.zeros((28, 28, 3)))


# -- the optional dependency ----------------------------------------------------------------

def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes `import matplotlib.figure` fail
    with pytest.raises(ImportError, match=r"pip install kerasish\[plot\]"):
        plotting.plot_curves({"a": [1.0, 2.0]}, tmp_path / "x.png")
