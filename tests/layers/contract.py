"""The shared layer contract: every kerasish layer against Keras 3's own layer (JAX backend).

A table row is `Row(class_name, kwargs, input_shape)`. `run_contract(row)` builds the kerasish
layer and Keras's with the same arguments, gives Keras's layer random weights and copies them into
ours in Keras's order (`set_weights(ref.get_weights())`: names, shapes and order must match), then
checks, the way Keras's `run_layer_test` runs every Keras layer:

* forward (inference) to 1e-5, and the output dtype;
* gradients of `sum(output * probe)` with respect to the input and every trainable weight to 1e-4
  (`jax.grad` on both: Keras through `stateless_call`, ours through `nnx.split` / `nnx.merge`);
* `compute_output_shape` with a None batch equals the real output shape and Keras's answer;
* `get_config()` equals Keras's for every key Keras has (name aside; extra keys only where the row
  names them), `from_config(get_config())` rebuilds a layer that gives the same output, and Keras's
  config loads into kerasish (and ours into Keras);
* the layer runs under `jax.jit` (split / merge) with the same output;
* with `fit=True` (the first row of each class, see `table`), one `Sequential.fit` step with SGD
  gives Keras's loss and the weights one SGD step of Keras's own gradient gives;
* random layers (`random=True`): inference is deterministic and equal to Keras's; in training the
  output's moments, zero fraction and the axes the noise is shared along match Keras's, two
  training calls differ, and with an int `seed` both calls give Keras's very values.

Family test files are one parametrized table each: `@pytest.mark.parametrize("row", table([...]))`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import keras as keras_ref
import kerasish

FORWARD_TOL = 1e-5
GRAD_TOL = 1e-4
LEARNING_RATE = 0.1


@dataclasses.dataclass
class Row:
    """One layer configuration: `class_name(**kwargs)` called on inputs of `input_shape`."""
    class_name: str
    kwargs: dict = dataclasses.field(default_factory=dict)
    input_shape: tuple = (2, 3)
    label: str = ""
    random: bool = False         # random in training: compare statistics instead of values
    fit: bool = False            # run one Sequential.fit step too (`table` sets it per class)
    extra_config: tuple = ()     # config keys kerasish has and Keras does not
    # Layer arguments that are layers (a wrapper's `layer`, an RNN's `cell`): argument name ->
    # (class_name, kwargs), or a list of them; each library builds its own.
    layers: dict = dataclasses.field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.class_name}-{self.label}" if self.label else self.class_name


def table(rows: list[Row]) -> list:
    """pytest params for `rows`; the first row of each class also runs the fit step."""
    seen: set[str] = set()
    params = []
    for row in rows:
        if row.class_name not in seen:
            seen.add(row.class_name)
            row = dataclasses.replace(row, fit=True)
        params.append(pytest.param(row, id=row.id))
    return params


def _close(ours, ref, tol: float, what: str) -> None:
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape}, Keras gives {ref.shape}"
    np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol, err_msg=what)


def _plain(value: Any) -> Any:
    """A config value with the differences that carry no meaning removed: tuples are lists, a
    serialized object is its class name and config (no module, no registered name), a dtype
    policy is its name."""
    if isinstance(value, dict):
        if "class_name" in value and "config" in value:
            if value["class_name"] == "DTypePolicy":
                return value["config"]["name"]
            return {"class_name": value["class_name"], "config": _plain(value["config"])}
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return json.loads(json.dumps(value))


@contextlib.contextmanager
def _zero_initializers(*layers):
    """Builds inside this block use zeros for every weight: random initializers compile anew for
    each weight shape (about a second per layer on the CPU, the slowest part of these tests), and
    the weights are overwritten anyway. The initializers are put back afterwards, so configs are
    untouched."""
    saved = [(layer, name, value) for layer in layers for name, value in list(vars(layer).items())
             if name.endswith("_initializer") and value is not None]
    for layer, name, _ in saved:
        setattr(layer, name, (keras_ref if isinstance(layer, keras_ref.layers.Layer) else kerasish).initializers.Zeros())
    try:
        yield
    finally:
        for layer, name, value in saved:
            setattr(layer, name, value)


def _built(layer, x):
    """`layer` built by a first (eager) call on `x`, without running its random initializers."""
    with _zero_initializers(layer):
        layer(x)
    return layer


def _nested(spec, library):
    if isinstance(spec, list):
        return [_nested(item, library) for item in spec]
    class_name, kwargs = spec
    return getattr(library.layers, class_name)(**copy.deepcopy(kwargs))


def _make(row: Row):
    made = []
    for library in (keras_ref, kerasish):
        nested = {name: _nested(spec, library) for name, spec in row.layers.items()}
        made.append(getattr(library.layers, row.class_name)(**copy.deepcopy(row.kwargs), **nested))
    return tuple(made)


def _inputs(row: Row, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=row.input_shape).astype("float32")


def _copy_weights(ref, ours, rng) -> None:
    """Random weights in Keras's layer (so zero biases and unit scales cannot hide a bug), copied into ours."""
    ref.set_weights([rng.normal(scale=0.5, size=w.shape).astype(w.dtype) for w in ref.get_weights()])
    assert [w.name for w in ours.weights] == [w.name for w in ref.weights], "weight names or order differ"
    assert [len(ours.trainable_weights), len(ours.non_trainable_weights)] == \
        [len(ref.trainable_weights), len(ref.non_trainable_weights)], "trainable / non-trainable split differs"
    ours.set_weights(ref.get_weights())


def _value_and_grads(loss, weights, x):
    """`loss(weights, x) -> (scalar, output)` compiled once: the output and the gradients with
    respect to the weights and the input."""
    (_, out), grads = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))(weights, jnp.asarray(x))
    return out, grads


def _keras_reference(ref, x, probe) -> dict[str, Any]:
    """Everything the checks need from Keras's layer, in one compiled program (`stateless_call`
    under `jax.jit`): the output; the gradients of `sum(output * probe)` with respect to the weights
    and the input; the loss of one fit step (mean squared error against zeros, plus the activity
    penalty per sample as fit adds it) and its gradients with respect to the weights."""
    frozen = [v.value for v in ref.non_trainable_variables]

    def fit_loss(out):
        penalty = 0.0 if ref.activity_regularizer is None else ref.activity_regularizer(out) / len(x)
        return jnp.mean(jnp.square(out)) + penalty

    @jax.jit
    def compiled(weights, inputs):
        out, backward = jax.vjp(lambda w, i: ref.stateless_call(w, frozen, i)[0], weights, inputs)
        weight_grads, x_grad = backward(jnp.asarray(probe))
        loss, loss_cotangent = jax.value_and_grad(fit_loss)(out)
        return out, weight_grads, x_grad, loss, backward(loss_cotangent)[0]
    weights = [v.value for v in ref.trainable_variables]
    out, weight_grads, x_grad, loss, fit_grads = compiled(weights, jnp.asarray(x))
    return {"output": out, "weights": weights, "weight_grads": weight_grads, "x_grad": x_grad,
            "fit_loss": loss, "fit_grads": fit_grads}


def _our_output_and_grads(ours, x, probe):
    """Our output and gradients under `jax.jit`, through `nnx.split` / `nnx.merge`; the weight
    gradients come back in Keras's weight order."""
    graphdef, params, rest = nnx.split(ours, nnx.Param, ...)

    def loss(p, inputs):
        out = nnx.merge(graphdef, p, rest, copy=True)(inputs)
        return jnp.sum(out * probe), out
    out, (g_params, g_x) = _value_and_grads(loss, params, x)
    by_path = dict(nnx.to_flat_state(g_params))
    paths = {id(node): path for path, node in nnx.iter_graph(ours)}
    return out, ([np.asarray(by_path[paths[id(w)]].get_value()) for w in ours.trainable_weights], g_x)


def _check_config(row: Row, ref, ours, x, y) -> None:
    ref_config, our_config = ref.get_config(), ours.get_config()
    for key in ref_config:
        if key != "name":
            assert key in our_config, f"config lacks Keras's key {key!r}"
            assert _plain(our_config[key]) == _plain(ref_config[key]), \
                f"config[{key!r}]: {our_config[key]!r}, Keras has {ref_config[key]!r}"
    extra = set(our_config) - set(ref_config)
    assert extra <= set(row.extra_config), f"config keys Keras does not have: {sorted(extra)}"
    cls = type(ours)
    for config in (our_config, ref_config):  # our own config, then Keras's (as a Keras file holds it)
        clone = cls.from_config(copy.deepcopy(config)) if config is our_config else \
            kerasish.layers.deserialize({"class_name": row.class_name, "config": copy.deepcopy(config)})
        _built(clone, x).set_weights(ours.get_weights())
        _close(clone(x), y, FORWARD_TOL, "output after from_config")
    keras_clone = type(ref).from_config(copy.deepcopy(our_config))
    assert _plain({k: v for k, v in keras_clone.get_config().items() if k != "name"}) == \
        _plain({k: v for k, v in ref_config.items() if k != "name"}), "Keras reads our config differently"


def _check_fit(row: Row, reference: dict[str, Any], ours, x, y) -> None:
    """One full-batch SGD step of mean squared error through `Sequential.fit`."""
    layer = type(ours).from_config(ours.get_config())
    # Flatten: the engine's loss reduction does not yet take (batch, steps, ...) outputs of mse
    # (compile_utils.output_loss broadcasts per-sample losses of rank > 1 against row weights).
    with _zero_initializers(layer):
        model = kerasish.Sequential([kerasish.Input(x.shape[1:]), layer, kerasish.layers.Flatten()])
    model.set_weights(ours.get_weights())
    model.compile(optimizer=kerasish.optimizers.SGD(LEARNING_RATE), loss="mse")
    target = np.zeros((len(x), int(np.prod(y.shape[1:]))), "float32")
    loss = model.fit(x, target, batch_size=len(x), epochs=1, shuffle=False, verbose=0).history["loss"][0]
    assert np.isfinite(loss)
    if row.random:
        return
    _close(loss, reference["fit_loss"], FORWARD_TOL, "fit loss")
    expected = [np.asarray(w) - LEARNING_RATE * np.asarray(g)
                for w, g in zip(reference["weights"], reference["fit_grads"])]
    after = [np.asarray(w) for w in model.trainable_weights]
    for i, (a, e) in enumerate(zip(after, expected)):
        _close(a, e, GRAD_TOL, f"weight {i} after one fit step")


def _noise_profile(out: np.ndarray, x: np.ndarray) -> dict[str, Any]:
    """What a random layer's training output looks like, whatever the draws: moments, the share of
    zeros and of untouched entries, along which axes the zero pattern is shared, and how many
    independent draws the statistics rest on."""
    zeros = out == 0
    mixed = zeros.any() and not zeros.all()
    shared = [bool(mixed and np.all(zeros == zeros.take([0], axis=a))) for a in range(1, out.ndim)]
    draws = out.size // int(np.prod([n for n, s in zip(out.shape[1:], shared) if s]))
    return {"mean": float(out.mean()), "std": float(out.std()), "zeros": float(zeros.mean()),
            "untouched": float(np.isclose(out, x, rtol=0, atol=1e-6).mean()), "shared_axes": shared,
            "draws": draws}


def _tolerance(key: str, profile: dict[str, Any]) -> float:
    """Five standard deviations of the difference of two independent estimates of `key`."""
    if key in ("zeros", "untouched"):
        spread = np.sqrt(profile[key] * (1 - profile[key]))
    else:
        spread = profile["std"]
    return 5 * np.sqrt(2 / profile["draws"]) * spread + 1e-3


def _check_random(row: Row, ref, ours, x) -> None:
    ours_a = np.asarray(ours(x, training=True))
    ours_b = np.asarray(ours(x, training=True))
    assert not np.array_equal(ours_a, ours_b), "two training calls drew the same noise"
    ref_a = np.asarray(ref(x, training=True))
    if isinstance(row.kwargs.get("seed"), int):  # seeded generators draw Keras's very values
        _close(ours_a, ref_a, FORWARD_TOL, "first training call with a seed")
        _close(ours_b, ref(x, training=True), FORWARD_TOL, "second training call with a seed")
    mine, theirs = _noise_profile(ours_a, x), _noise_profile(ref_a, x)
    assert mine["shared_axes"] == theirs["shared_axes"], (mine, theirs)
    for key in ("mean", "std", "zeros", "untouched"):
        assert abs(mine[key] - theirs[key]) < _tolerance(key, theirs), f"{key}: ours {mine}, Keras {theirs}"
    _close(ours(x, training=False), ours(x), 0.0, "inference is deterministic")


def run_contract(row: Row) -> None:
    """Runs every check of the module docstring for one table row."""
    rng = np.random.default_rng(1)
    x = _inputs(row)
    ref, ours = _make(row)
    with _zero_initializers(ref):
        ref.build(x.shape)
    _built(ours, x)
    _copy_weights(ref, ours, rng)
    y = ours(x)

    unknown_batch = (None, *row.input_shape[1:])
    expected_shape = (None, *y.shape[1:])
    assert tuple(ours.compute_output_shape(unknown_batch)) == expected_shape
    assert tuple(ref.compute_output_shape(unknown_batch)) == expected_shape

    probe = rng.normal(size=y.shape).astype("float32")
    reference = _keras_reference(ref, x, probe)
    y_jit, (weight_grads, x_grad) = _our_output_and_grads(ours, x, probe)
    _close(y, reference["output"], FORWARD_TOL, "forward")
    assert y.dtype == reference["output"].dtype, f"output dtype {y.dtype}, Keras gives {reference['output'].dtype}"
    _close(y_jit, y, FORWARD_TOL, "output under jax.jit")
    _close(x_grad, reference["x_grad"], GRAD_TOL, "gradient w.r.t. the input")
    for i, (g, g_ref) in enumerate(zip(weight_grads, reference["weight_grads"])):
        _close(g, g_ref, GRAD_TOL, f"gradient w.r.t. weight {i} ({ours.trainable_weights[i].name})")

    _check_config(row, ref, ours, x, y)
    if row.random:
        _check_random(row, ref, ours, x)
    if row.fit:
        _check_fit(row, reference, ours, x, y)
