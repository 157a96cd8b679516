"""Model: a Layer that trains — compile, fit, evaluate, predict, the *_on_batch methods, save/load
entry points, and what the training engine asks of a model (its protocol, docs/CONTRACTS.md).

The training maths live in `kerasish.training`; this class only checks arguments and delegates.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx

from kerasish.layers import context
from kerasish.layers.base import Layer, normalize_shape
from kerasish.models.stateless import StatelessModel
from kerasish.models.summary import print_summary
from kerasish.training import custom_step, loop
from kerasish.training.engine import Engine
from kerasish.utils import rng


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _functional_subclass(cls: type) -> type:
    """`cls` with `Functional` mixed in (one class per subclass), keeping its name and methods."""
    from kerasish.models.functional import Functional
    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional),
                                           {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return _FUNCTIONAL_SUBCLASSES[cls]


def _is_nested(shape) -> bool:
    return isinstance(shape, dict) or (isinstance(shape, (list, tuple)) and any(
        isinstance(d, (list, tuple, dict)) for d in shape))


class Model(StatelessModel, Layer):
    """A layer with training: `compile`, `fit`, `evaluate`, `predict`, saving. Subclass it with layers
    as attributes and a `call(inputs, training=None)`; `keras.Sequential` is one.

    The model is an `nnx.Module` like every layer, so Flax's tools work on it directly
    (`nnx.split(model)`, `nnx.Optimizer(model, tx, wrt=nnx.Param)`, `nnx.jit`).

    Example:
        >>> class MLP(keras.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden, self.out = layers.Dense(64, activation="relu"), layers.Dense(10)
        ...     def call(self, inputs, training=None):
        ...         return self.out(self.hidden(inputs))
    """

    def __new__(cls, *args, **kwargs):
        """`keras.Model(inputs, outputs)` makes a functional model; so does a subclass of Model called
        that way (Keras's `custom_train_step` pattern), which then also inherits `Functional`."""
        from kerasish.layers.symbolic import any_symbolic
        from kerasish.models.functional import Functional, functional_arguments
        arguments = functional_arguments(args, kwargs)
        # A subclass is functional only when called with KerasTensors (`CustomModel(inputs, outputs)`);
        # its own positional arguments (`VAE(784, 64, 32)`) do not make it one.
        functional = arguments is not None and (cls is Model or any_symbolic(arguments[:2], {}))
        if not functional or issubclass(cls, Functional) or getattr(cls, "_not_functional", False):
            return Layer.__new__(cls, *args, **kwargs)
        if cls is Model:
            return object.__new__(Functional)
        return object.__new__(_functional_subclass(cls))

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype=None, **kwargs):
        super().__init__(name=name, trainable=trainable, dtype=dtype, **kwargs)
        self._engine: Engine | None = None
        self._predict_only: Engine | None = None
        self.stop_training = False
        self.history = None
        self._in_fit = False

    # -- structure -----------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return list(self._sublayers())

    def to_json(self, **kwargs) -> str:
        """The model's architecture as Keras's JSON (the `config.json` entry of a `.keras` file);
        `kwargs` go to `json.dumps`. Rebuild it with `keras.models.model_from_json`."""
        import json
        from kerasish.layers import serialize
        return json.dumps(serialize(self), **kwargs)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `model.layers` (Keras's errors otherwise)."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Model {type(self).__name__} does not have a `call()` method implemented.")

    def build(self, input_shape=None) -> None:
        """Builds every layer by tracing `call` on a symbolic input of `input_shape` (batch first)."""
        if type(self).build is not Model.build:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        from kerasish.layers import symbolic
        shape = normalize_shape(input_shape, "input_shape") if not _is_nested(input_shape) else input_shape
        self.built = True  # the symbolic call below builds every layer; it must not build the model again
        try:
            symbolic.output_shape(self, shape)
        except Exception:
            self.built = False
            raise
        self._build_shape = shape

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> "Model":
        """A functional config (`layers`, `input_layers`, `output_layers`) rebuilds the graph; any other
        config goes to the class's constructor, as Keras does for subclassed models."""
        from kerasish.models.functional import Functional
        if isinstance(config, dict) and {"layers", "input_layers", "output_layers"} <= set(config):
            target = cls if issubclass(cls, Functional) else (
                Functional if cls is Model else _functional_subclass(cls))
            return Functional.from_config.__func__(target, config, custom_objects)
        return cls(**config)

    def _ensure_built(self, input_shape) -> None:
        """Builds the model for data whose (per-input) shape is `input_shape` if it is not built yet."""
        if not self.built:
            self.build(input_shape)

    def summary(self, line_length: int | None = None, positions=None, print_fn=None,
                expand_nested: bool = False, show_trainable: bool = False, layer_range=None) -> None:
        """Prints the layers, their output shapes and parameter counts, like Keras."""
        print_summary(self, line_length=line_length, print_fn=print_fn, show_trainable=show_trainable)

    # -- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution="auto", jit_compile="auto",
                auto_scale_loss=True, loop: str = "auto"):
        """Configures training with Keras's arguments.

        `steps_per_execution` is honoured as in Keras when given; its default "auto" runs several
        steps per compiled call where that is faster (see `Engine.steps_per_call`). `loop`
        ("auto", "scan", "unroll") says how those steps run inside the call."""
        custom_step.check_step_signatures(self)  # train_step(self, state, data) overrides run in fit
        engine = Engine(self, optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics,
                        steps_per_execution=steps_per_execution, jit_compile=jit_compile, loop=loop,
                        run_eagerly=run_eagerly, loss_weights=loss_weights)
        engine.seed = rng.next_seed()
        self._engine = engine

    @property
    def compiled(self) -> bool:
        return self._engine is not None

    @property
    def optimizer(self):
        return None if self._engine is None else self._engine.optimizer

    @property
    def loss(self):
        return None if self._engine is None else self._engine.loss

    @property
    def metrics_names(self) -> list[str]:
        return [] if self._engine is None else self._engine.metric_names

    def _require_compiled(self) -> Engine:
        if self._engine is None:
            raise ValueError("You must call `compile()` before using the model.")
        return self._engine

    def _predict_engine(self) -> Engine:
        if self._engine is None:  # predict works on an uncompiled model, as in Keras
            self._predict_only = getattr(self, "_predict_only", None) or Engine(self, optimizer="sgd")
            return self._predict_only
        return self._engine

    # -- training, evaluation, prediction ---------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model; returns a `History` whose `.history` maps each metric to per-epoch values."""
        return loop.fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
                        shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch,
                        validation_steps, validation_batch_size, validation_freq)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Returns the loss (and metrics) in inference mode: a scalar, a list, or a dict."""
        if kwargs:
            raise TypeError(f"Invalid keyword arguments: {sorted(kwargs)}")
        return loop.evaluate(self, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Returns the model's outputs for `x` as a NumPy array."""
        return loop.predict(self, x, batch_size, verbose, steps, callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on exactly this batch; returns its loss (and metrics). `history` is kept."""
        logs = loop.train_on_batch(self, x, y, sample_weight, class_weight)
        return self._format_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        x = np.asarray(x)
        return self.evaluate(x, y, batch_size=len(x), verbose=0, sample_weight=sample_weight,
                             return_dict=return_dict)

    def predict_on_batch(self, x):
        x = np.asarray(x)
        return self.predict(x, batch_size=len(x), verbose=0)

    def _format_logs(self, logs: dict, return_dict: bool):
        if return_dict:
            return logs
        return self._flatten_logs_in_order(logs)

    # -- what the engine asks of a model (docs/CONTRACTS.md) ------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The training loss of one batch (Keras's hook; override it to change the loss).

        The default is the compiled loss, weighted by `sample_weight` and averaged over the batch's
        real rows, plus every loss in `self.losses` (`add_loss`, activity and weight regularization).
        """
        total = jnp.zeros((), jnp.float32)
        engine = self._engine
        if engine is not None and engine.loss is not None and y is not None:
            if engine.compiled_loss is None:
                engine.resolve_outputs(None, self._output_shape)
            total = engine.compiled_loss(y, y_pred, sample_weight, context.row_mask())
        for loss in self.losses:
            total = total + jnp.asarray(loss, jnp.float32)
        return total

    def _trainable_filter(self):
        """The NNX filter of the variables `fit` trains: Params not under a frozen layer."""
        frozen = tuple(tuple(path) for path, node in nnx.iter_graph(self)
                       if isinstance(node, Layer) and not node.trainable)

        def trainable(path, value) -> bool:
            return isinstance(value, nnx.Param) and not any(tuple(path[:len(p)]) == p for p in frozen)
        return trainable

    def _structure_key(self) -> Any:
        """Changes whenever what is compiled must change: the modules and variables of the graph
        (types, shapes, dtypes), which layers are frozen, and the static data a layer's compiled
        code depends on (its `_compile_key()`: an adapted vocabulary, bin boundaries). Other Python
        attributes (the history of the last `fit`, flags) do not count."""
        key = []
        for path, node in nnx.iter_graph(self):
            if isinstance(node, nnx.Variable):
                value = node.get_value()
                key.append((tuple(path), type(node), getattr(value, "shape", None), str(getattr(value, "dtype", ""))))
            elif isinstance(node, nnx.Module):
                compile_key = node._compile_key() if isinstance(node, Layer) else None
                key.append((tuple(path), type(node), getattr(node, "_trainable", None), compile_key))
        return tuple(key)

    def _uses_float16(self) -> bool:
        return any(layer.compute_dtype == "float16" for layer in self._flatten_layers())

    @property
    def flax_module(self) -> nnx.Module:
        """The model itself: it is an ordinary Flax NNX module (kept for code written before that)."""
        return self

    # -- saving (kerasish.saving does the work) ---------------------------------------------
    def save(self, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
        """Writes the architecture, weights, compile configuration and optimizer state to one
        `.keras` file, atomically. See `keras.saving.save_model`."""
        from kerasish import saving
        saving.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, max_shard_size=None) -> None:
        """Writes the weights (and optimizer state) to a `.weights.h5` path. See `keras.saving.save_weights`."""
        from kerasish import saving
        saving.save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch: bool = False, **kwargs) -> None:
        """Loads weights written by `save_weights` or `save`; nothing changes unless they all fit."""
        from kerasish import saving
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)
