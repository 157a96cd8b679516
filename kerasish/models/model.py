"""Model: what every kerasish model has besides its structure — compile, fit, evaluate, predict,
the *_on_batch methods, weights as NumPy lists and save/load entry points.

The training maths live in `kerasish.training`; this class only checks arguments and delegates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from flax import nnx

from kerasish.training import loop
from kerasish.training.engine import Engine
from kerasish.utils import rng


class Model:
    """Base class of Sequential. Subclasses provide `_module`, `layers`, `_ensure_built`."""

    def __init__(self, name: str | None = None):
        self.name = name
        self._engine: Engine | None = None
        self.stop_training = False
        self.history = None
        self._in_fit = False
        self._module: nnx.Module | None = None

    # -- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution="auto", jit_compile="auto",
                auto_scale_loss=True, loop: str = "auto"):
        """Configures training with Keras's arguments.

        `steps_per_execution` is honoured as in Keras when given; its default "auto" runs several
        steps per compiled call where that is faster (see `Engine.steps_per_call`). `loop`
        ("auto", "scan", "unroll") says how those steps run inside the call."""
        if loss_weights is not None:
            raise ValueError("`loss_weights` applies to multi-output models; a Sequential model has one output.")
        engine = Engine(self, optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics,
                        steps_per_execution=steps_per_execution, jit_compile=jit_compile, loop=loop,
                        run_eagerly=run_eagerly)
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
        """One gradient step on exactly this batch; returns its loss (and metrics)."""
        x = np.asarray(x)
        history = loop.fit(self, x, y, len(x), 1, 0, None, 0.0, None, False, class_weight, sample_weight,
                           0, None, None, None, 1)
        logs = {k: v[-1] for k, v in history.history.items()}
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
        values = [logs[name] for name in self._engine.metric_names]
        return values[0] if len(values) == 1 else values

    # -- weights ----------------------------------------------------------------------------
    @property
    def weights(self) -> list:
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list:
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list:
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def get_weights(self) -> list[np.ndarray]:
        """All weights as NumPy arrays, layer by layer in Keras's order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Sets all weights from a list like `get_weights()` returns; nothing changes on a mismatch."""
        weights = list(weights)
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"You called `set_weights(weights)` on model '{self.name}' with a weight list of "
                             f"length {len(weights)}, but the model was expecting {len(own)} weights.")
        for w, value in zip(own, weights):
            if tuple(np.shape(value)) != w.shape:
                raise ValueError(f"Weight {w.path} has shape {w.shape}; received a value of shape "
                                 f"{tuple(np.shape(value))}.")
        for w, value in zip(own, weights):
            w.assign(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on model '{self.name}', but the model has "
                             "not been built. You can build it manually via: `model.build(batch_input_shape)`.")
        return sum(layer.count_params() for layer in self.layers)

    # -- what the engine asks of a model ------------------------------------------------------
    def _trainable_filter(self):
        flags = self._trainable_key()
        return lambda path, value: isinstance(value, nnx.Param) and flags[path[1]]

    def _trainable_key(self) -> tuple[bool, ...]:
        return tuple(layer.trainable for layer in self.layers)

    def _weight_path(self, nnx_path: tuple) -> str:
        """'dense/kernel' for the nnx path ('layers', i, 'linear', 'kernel'): what LayoutMap keys match."""
        layer = self.layers[nnx_path[1]]
        for path, name, _ in layer.weight_specs():
            if tuple(path) == tuple(nnx_path[2:]):
                return f"{layer.name}/{name}"
        return "/".join(str(p) for p in (layer.name, *nnx_path[2:]))

    def _regularization(self, module) -> Any:
        total = 0.0
        for layer, child in zip(self.layers, module.layers):
            total = total + layer.regularization_loss(child)
        return total

    def _compute_dtype(self) -> str:
        """The dtype inputs are cast to: the first layer's compute dtype (its mixed precision policy)."""
        return self.layers[0].compute_dtype if self.layers else "float32"

    def _uses_float16(self) -> bool:
        return any(layer.compute_dtype == "float16" for layer in self.layers)

    @property
    def flax_module(self) -> nnx.Module:
        """The whole model as an ordinary Flax NNX module (in inference mode; call `.train()` to switch)."""
        if self._module is None:
            raise ValueError(f"Model '{self.name}' has not been built yet: call `build(input_shape)` or fit it first.")
        return self._module

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
