"""What a model file holds about a model: its variables, its optimizer state, its compile config.

Every value is addressed by its pytree path (`model/layers/0/linear/kernel`,
`optimizer/inner_state/0/0/mu/layers/0/linear/kernel`), so a file fits any model of the same
architecture whatever its layer names. Loading validates every array's name, shape and dtype
against the target before assigning any, so a mismatch changes nothing.

Owns: model/optimizer state <-> `file_format.Contents`, and compile arguments <-> JSON.
Must not: read or write files.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
from flax import nnx

from kerasish import losses as losses_lib
from kerasish import metrics as metrics_lib
from kerasish import optimizers as optimizers_lib
from kerasish import serialization
from kerasish.saving.file_format import Contents, decode, describe, spec_of

MODEL, OPTIMIZER = "model", "optimizer"


# -- pytrees <-> named arrays ------------------------------------------------------------------
def _name(prefix: str, path) -> str:
    parts = [prefix]
    for entry in path:
        if isinstance(entry, jax.tree_util.DictKey):
            parts.append(str(entry.key))
        elif isinstance(entry, jax.tree_util.SequenceKey):
            parts.append(str(entry.idx))
        elif isinstance(entry, jax.tree_util.GetAttrKey):
            parts.append(entry.name)
        else:
            parts.append(str(getattr(entry, "key", entry)))
    if parts[-1] == "value" and len(parts) > 1:  # an nnx.Variable's array
        parts.pop()
    return "/".join(parts)


def named_leaves(prefix: str, tree) -> tuple[dict[str, Any], Any]:
    """`{name: leaf}` in flattening order, and the treedef to rebuild `tree`."""
    with_path, treedef = jax.tree_util.tree_flatten_with_path(tree)
    named = {_name(prefix, path): leaf for path, leaf in with_path}
    if len(named) != len(with_path):
        raise ValueError(f"Two values of the {prefix} state map to the same name; cannot save it.")
    return named, treedef


def add_tree(contents: Contents, prefix: str, tree) -> None:
    for name, leaf in named_leaves(prefix, tree)[0].items():
        contents.add(name, leaf)


def mismatches(contents: Contents, prefix: str, tree) -> list[str]:
    """Every difference between the `prefix/...` arrays of a file and `tree`, in plain words."""
    template, _ = named_leaves(prefix, tree)
    stored = set(contents.names(prefix))
    problems = []
    missing = [n for n in template if n not in stored]
    extra = sorted(stored - set(template))
    if missing:
        problems.append(f"{len(missing)} not in the file (e.g. {', '.join(missing[:3])})")
    if extra:
        problems.append(f"{len(extra)} in the file but not in the model (e.g. {', '.join(extra[:3])})")
    for name, leaf in template.items():
        if name in stored and contents.specs[name] != spec_of(leaf):
            problems.append(f"{name}: file has {describe(contents.specs[name])}, "
                            f"model has {describe(spec_of(leaf))}")
    return problems


def rebuild(contents: Contents, prefix: str, tree, keep=None):
    """`tree` with every leaf replaced by the file's value (only names in `keep`, if given)."""
    named, treedef = named_leaves(prefix, tree)
    leaves = [decode(contents.tensors[n], contents.specs[n]) if keep is None or n in keep else leaf
              for n, leaf in named.items()]
    return jax.tree_util.tree_unflatten(treedef, leaves)


# -- the model ---------------------------------------------------------------------------------
def model_state(model):
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not been built yet, so it has no weights: call "
                         "`model.build(input_shape)` (or fit it) first.")
    return nnx.state(model)


def check_model(contents: Contents, model, path: str, skip_mismatch: bool = False):
    """The names to load; raises ValueError (nothing assigned) when the file does not fit."""
    problems = mismatches(contents, MODEL, model_state(model))
    if problems and not skip_mismatch:
        raise ValueError(f"Cannot load weights from {path} into model '{model.name}': the file's weights do "
                         f"not fit this model's architecture. " + "; ".join(problems[:8]))
    template, _ = named_leaves(MODEL, model_state(model))
    keep = {n for n, leaf in template.items() if n in contents.specs and contents.specs[n] == spec_of(leaf)}
    if problems:
        warnings.warn(f"Skipping {len(template) - len(keep)} weights of model '{model.name}' that do not "
                      f"match {path}: " + "; ".join(problems[:8]), stacklevel=3)
    return keep


def assign_model(contents: Contents, model, keep=None) -> None:
    nnx.update(model, rebuild(contents, MODEL, model_state(model), keep))


# -- the optimizer -----------------------------------------------------------------------------
def optimizer_template(model):
    """The compiled model's optax state (created for the current parameters if it did not exist)."""
    engine = model._engine
    engine.pull()
    return engine.optimizer.state


def check_optimizer(contents: Contents, model, path: str) -> bool:
    """Whether the file's optimizer state can be loaded; warns (as Keras does) when it cannot."""
    if not contents.names(OPTIMIZER) or model._engine is None:
        return False
    problems = mismatches(contents, OPTIMIZER, optimizer_template(model))
    if problems:
        warnings.warn(f"Skipping the optimizer state in {path}: it does not fit the optimizer of model "
                      f"'{model.name}' ({model.optimizer.name}): " + "; ".join(problems[:4]), stacklevel=3)
        return False
    return True


def assign_optimizer(contents: Contents, model) -> None:
    optimizer = model._engine.optimizer
    optimizer.state = rebuild(contents, OPTIMIZER, optimizer.state)


# -- compile arguments <-> JSON ----------------------------------------------------------------
def compile_config(model) -> dict | None:
    """compile()'s arguments as JSON plus the engine's shuffle seed; None if not serializable."""
    engine = model._engine
    if engine is None:
        return None
    try:
        optimizer = optimizers_lib.serialize(engine.optimizer)
        loss = None if engine.loss is None else losses_lib.serialize(engine.loss)
        metrics = [_serialize_metric(m) for m in engine.metric_ids]
    except (TypeError, NotImplementedError) as e:
        warnings.warn(f"Model '{model.name}' is saved without its compile configuration and optimizer "
                      f"state, which cannot be serialized: {e}", stacklevel=3)
        return None
    return {"optimizer": optimizer, "loss": loss, "metrics": metrics,
            "steps_per_execution": engine.steps_per_execution, "loop": engine.loop, "seed": engine.seed}


def _serialize_metric(metric) -> Any:
    if isinstance(metric, str):
        return metric
    if isinstance(metric, metrics_lib.Metric):
        return metrics_lib.serialize(metric)
    if callable(metric):
        return {"class_name": "function", "config": serialization.get_registered_name(metric)}
    raise TypeError(f"Cannot serialize metric {metric!r}.")


def _deserialize_metric(config, custom_objects) -> Any:
    if isinstance(config, str):
        return config
    if config.get("class_name") == "function":
        fn = serialization.get_registered_object(config["config"], custom_objects)
        if fn is None:
            raise ValueError(f"Unknown metric function: '{config['config']}'. Pass it in `custom_objects` or "
                             "register it with `@keras.saving.register_keras_serializable()`.")
        return fn
    return metrics_lib.deserialize(config, custom_objects=custom_objects)


def compile_from_config(model, config: dict, custom_objects=None) -> None:
    """Compiles `model` as it was when saved, with the same shuffle seed."""
    optimizer = optimizers_lib.deserialize(config["optimizer"], custom_objects=custom_objects)
    loss = None if config.get("loss") is None else losses_lib.deserialize(config["loss"], custom_objects)
    metrics = [_deserialize_metric(m, custom_objects) for m in config.get("metrics") or []]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics or None,
                  steps_per_execution=config.get("steps_per_execution", 1), loop=config.get("loop", "auto"))
    if config.get("seed") is not None:
        model._engine.seed = int(config["seed"])
