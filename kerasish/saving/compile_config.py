"""`compile()`'s arguments <-> Keras 3's `compile_config`.

Keras writes `{"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
"steps_per_execution", "jit_compile"}`: names given as strings stay strings, functions are
`{"module": "builtins", "class_name": "function", "config": name, ...}`, objects their full config.
What Keras has no key for (kerasish's `steps_per_execution="auto"`, `loop`, the shuffle seed)
travels in the kerasish group of the weights file (`kerasish_extras`).

Owns: that mapping both ways. Must not: read or write files, or touch weights.
"""

from __future__ import annotations

import warnings
from typing import Any

from kerasish import losses as losses_lib
from kerasish import metrics as metrics_lib
from kerasish import optimizers as optimizers_lib
from kerasish import serialization
from kerasish.serialization import serialize_keras_object


def serialize_optimizer(optimizer) -> dict[str, Any]:
    """The optimizer as Keras writes it; kerasish's `Momentum` is Keras's `SGD` with its momentum.

    Raises:
        TypeError / NotImplementedError: for an optax transformation or an unserializable schedule.
    """
    if not isinstance(optimizer, optimizers_lib.Optimizer):
        raise TypeError(f"{optimizer!r} is an optax transformation; only Keras-named optimizers can be written "
                        "into a Keras file.")
    entry = serialize_keras_object(optimizer)
    if type(optimizer) is optimizers_lib.Momentum:
        entry.update(module="keras.optimizers", class_name="SGD")
    return entry


def _loss_entry(loss) -> Any:
    """A loss given by name stays a name (`"mse"`), a plain function is Keras's function form; a
    `LossFunctionWrapper` (kerasish's wrapper of both) is never written, Keras cannot read it."""
    if isinstance(loss, losses_lib.LossFunctionWrapper):
        config = loss.get_config()
        if type(loss) is not losses_lib.LossFunctionWrapper:  # a loss class: its config (from_logits...)
            return serialize_keras_object(loss)
        name = config.get("name")
        try:
            same = losses_lib.get(name)
        except ValueError:
            same = None
        if isinstance(same, losses_lib.LossFunctionWrapper) and same.fn is loss.fn \
                and same.get_config() == config:
            return name
        if config.get("reduction") == "sum_over_batch_size" and name == loss.fn.__name__:
            return serialize_keras_object(loss.fn)
    return serialize_keras_object(loss)


def _metric_entry(metric) -> Any:
    if isinstance(metric, str):
        return metric
    return serialize_keras_object(metric)


def _per_output(fn, value):
    """`fn` applied to one entry, or to each entry of a list / dict (per output), nested one level.
    A dict with a `class_name` is one serialized object (Keras's entry), not a dict of outputs."""
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _per_output(fn, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_per_output(fn, v) for v in value]
    return None if value is None else fn(value)


def compile_config(model) -> tuple[dict | None, dict]:
    """`(Keras's compile_config, kerasish extras)`; `(None, {})` if the model is not compiled or its
    optimizer, loss or metrics cannot be written (then it is saved uncompiled, with a warning)."""
    engine = model._engine
    if engine is None:
        return None, {}
    try:
        config = {"optimizer": serialize_optimizer(engine.optimizer),
                  "loss": None if engine.loss is None else _per_output(_loss_entry, engine.loss),
                  "loss_weights": engine.loss_weights,
                  "metrics": _per_output(_metric_entry, engine.metric_ids) or None,
                  "weighted_metrics": None, "run_eagerly": engine.eager,
                  "steps_per_execution": engine.steps_per_execution if isinstance(engine.steps_per_execution, int)
                  else 1, "jit_compile": not engine.eager}
    except (TypeError, NotImplementedError, ValueError) as e:
        warnings.warn(f"Model '{model.name}' is saved without its compile configuration, which cannot be "
                      f"serialized: {e}", stacklevel=3)
        return None, {}
    extras = {"steps_per_execution": engine.steps_per_execution, "loop": engine.loop, "seed": engine.seed}
    return config, extras


# -- reading ---------------------------------------------------------------------------------------------------
def _function_or_name(entry, custom_objects):
    """Keras's function form -> a registered/custom function, else the name kerasish knows it by."""
    name = entry.get("config")
    found = serialization.get_registered_object(name, custom_objects)
    return found if found is not None else name


def _loss(entry, custom_objects):
    if isinstance(entry, dict) and "class_name" not in entry:  # one loss per output
        return {k: _loss(v, custom_objects) for k, v in entry.items()}
    if isinstance(entry, dict) and entry.get("class_name") == "function":
        return _function_or_name(entry, custom_objects)
    if isinstance(entry, dict):
        return losses_lib.deserialize(entry, custom_objects)
    return entry


def _metric(entry, custom_objects):
    if isinstance(entry, dict) and entry.get("class_name") == "function":
        return _function_or_name(entry, custom_objects)
    if isinstance(entry, dict):
        cls = serialization.get_registered_object(entry.get("registered_name") or entry.get("class_name"),
                                                  custom_objects)
        if isinstance(cls, type):
            return cls.from_config(dict(entry.get("config") or {}))
        return metrics_lib.deserialize(entry, custom_objects)
    return entry


def _optimizer(entry, custom_objects):
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and entry.get("class_name") == "LossScaleOptimizer":
        # Keras's wrapper for float16 models; kerasish scales float16 losses by itself.
        entry = (entry.get("config") or {}).get("inner_optimizer", entry)
    cls = serialization.get_registered_object(entry.get("registered_name"), custom_objects) \
        if isinstance(entry, dict) else None
    if isinstance(cls, type):
        return cls.from_config(dict(entry.get("config") or {}))
    return optimizers_lib.deserialize(entry, custom_objects=custom_objects)


def compile_from_config(model, config: dict, extras: dict | None, custom_objects=None) -> None:
    """Compiles `model` as the file says (Keras's keys), with kerasish's extras when present."""
    if not isinstance(config, dict):
        raise ValueError(f"Expected `compile_config` to be a dict. Received: {config!r}")
    extras = extras or {}
    unknown = set(config) - {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
                             "steps_per_execution", "jit_compile", "auto_scale_loss"}
    if unknown:
        raise ValueError(f"Unknown keys in `compile_config`: {sorted(unknown)}.")
    metrics = config.get("metrics")
    model.compile(optimizer=_optimizer(config.get("optimizer", "rmsprop"), custom_objects),
                  loss=_per_output(lambda e: _loss(e, custom_objects), config.get("loss")),
                  loss_weights=config.get("loss_weights"),
                  metrics=_per_output(lambda e: _metric(e, custom_objects), metrics) if metrics else None,
                  weighted_metrics=config.get("weighted_metrics"),
                  run_eagerly=bool(config.get("run_eagerly", False)),
                  steps_per_execution=extras.get("steps_per_execution", config.get("steps_per_execution", 1)),
                  jit_compile=config.get("jit_compile", "auto"),
                  loop=extras.get("loop", "auto"))
    if extras.get("seed") is not None:
        model._engine.seed = int(extras["seed"])
