"""The one place that decides what gets compiled, with which donation, and how often.

An `Engine` is made by `model.compile(...)`. It resolves the loss, metrics and optimizer, splits the
model's NNX module into pure state, and keeps one jitted function per (kind, steps per call, loop
form), so an epoch, later epochs, `evaluate` and `predict` reuse compiled programs. Arrays move
between the Python objects (NNX module, optimizer shell) and the pure state only in `pull`/`push`.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from kerasish import distribution as distribution_lib
from kerasish import losses as losses_lib
from kerasish import mixed_precision
from kerasish import metrics as metrics_lib
from kerasish import optimizers as optimizers_lib
from kerasish.training import compile_utils
from kerasish.training import step as steps
from kerasish.training.step import StepSpec, TrainState
from kerasish.utils import compilation_cache
from kerasish.utils.host import to_host


class Engine:
    """Compiled train / eval / predict functions for one compiled model."""

    def __init__(self, model, optimizer="rmsprop", loss=None, metrics=None, weighted_metrics=None,
                 steps_per_execution: int | str = "auto", jit_compile: Any = "auto", loop: str = "auto",
                 run_eagerly: bool = False, loss_weights=None):
        self.model = model
        self.optimizer = optimizers_lib.get(optimizer)
        self.loss = _map_losses(loss)
        self.loss_weights = loss_weights
        if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
            raise TypeError(f"Expected `metrics` argument to be a list, tuple, or dict. Received: "
                            f"metrics={metrics!r} of type {type(metrics)}")
        self.metric_ids = metrics if isinstance(metrics, dict) else list(metrics or [])
        groups = self.metric_ids.values() if isinstance(metrics, dict) else self.metric_ids
        for group in groups:  # fail at compile time on unknown names, as Keras does
            for identifier in (group if isinstance(group, (list, tuple)) else [group]):
                metrics_lib.get(identifier, None, None)
        self.compiled_loss: compile_utils.CompiledLoss | None = None
        if weighted_metrics:
            raise ValueError("`weighted_metrics` is not supported yet: metrics are always weighted by "
                             "sample_weight in kerasish.")
        if steps_per_execution != "auto" and (isinstance(steps_per_execution, bool)
                                              or not isinstance(steps_per_execution, int) or steps_per_execution < 1):
            raise ValueError(f"`steps_per_execution` must be a positive integer or 'auto'. "
                             f"Received: steps_per_execution={steps_per_execution!r}")
        if loop not in ("auto", "scan", "unroll"):
            raise ValueError(f"`loop` must be 'auto', 'scan' or 'unroll'. Received: loop={loop!r}")
        self.steps_per_execution = steps_per_execution
        # Keras: run_eagerly=True (or jit_compile=False) runs the step as plain Python, for debugging
        # with print / breakpoints; it is much slower.
        self.eager = bool(run_eagerly) or jit_compile is False
        self.loop = loop
        self._float16 = model._uses_float16()
        self._make_transform()
        self.distribution = distribution_lib.distribution()
        self._state_shardings = None
        self.metrics: list | None = None
        self._functions: dict = {}
        self._opt_signature = None
        self.compile_seconds: dict[str, float] = {}  # first call of each function: trace + compile + 1 run
        compilation_cache.ensure_enabled()
        self.trace_counts: dict[str, int] = {}

    def _make_transform(self) -> None:
        """The optax transformation of the optimizer as configured now (its learning rate or schedule)."""
        self._tx_rate = getattr(self.optimizer, "_learning_rate", None)
        self.tx = self.optimizer.make_transform()
        if self._float16 and not isinstance(self.optimizer, optimizers_lib.LossScaleOptimizer):
            self.tx = mixed_precision.dynamic_loss_scale(self.tx)  # a LossScaleOptimizer scales already

    def _follow_schedule(self) -> None:
        """A schedule assigned to `optimizer.learning_rate` after compile() takes effect: the transform
        is rebuilt (its state layout is the same) and the train functions recompiled."""
        rate = getattr(self.optimizer, "_learning_rate", None)
        if rate is not self._tx_rate and callable(rate):
            self._make_transform()
            self._functions = {k: f for k, f in self._functions.items() if k[0] != "train"}

    def reset(self) -> None:
        """Forgets everything tied to the model's structure (after `add`/`pop`); keeps the compile config."""
        self._functions.clear()
        self.metrics = None
        self.compiled_loss = None
        self.optimizer.state = None
        self._opt_signature = None

    # -- resolving what depends on data shapes ----------------------------------------------
    def resolve_outputs(self, y_shapes, output_shapes) -> None:
        """Spreads `loss`, `loss_weights` and `metrics` over the model's outputs (once their shapes are
        known): the compiled loss, then the loss trackers and metrics of `metric_names`."""
        if self.metrics is not None and self.compiled_loss is not None:
            return
        outputs = compile_utils.OutputStructure(output_shapes, getattr(self.model, "output_names", None))
        self.compiled_loss = compile_utils.CompiledLoss(self.loss, self.loss_weights, outputs)
        self.metrics = self.compiled_loss.trackers + compile_utils.resolve_metrics(self.metric_ids, outputs, y_shapes)

    @property
    def metric_names(self) -> list[str]:
        return ["loss"] + [m.name for m in self.metrics or []]

    def spec(self) -> StepSpec:
        model = self.model
        trainable = model._trainable_filter()
        graph, params, _ = nnx.split(model, trainable, ...)
        constrained = any(isinstance(v, nnx.Variable) and v.get_metadata("constraint", None) is not None
                          for v in jax.tree.leaves(params, is_leaf=lambda v: isinstance(v, nnx.Variable)))
        scale_loss = getattr(self.optimizer, "scale_loss", None) or (lambda loss: loss)
        return StepSpec(graph, tuple(self.metrics or ()), trainable, scale_loss, constrained)

    def adds_batch_losses(self, sample_x, batch_size: int) -> bool:
        """Whether the model adds losses computed from the batch in training (`add_loss`, activity
        regularizers), so that a partial batch must run on its real rows only (cached per model
        structure; only the shapes and dtypes of `sample_x`, the inputs, matter: traced as one batch of
        `batch_size` rows, the size a stateful layer expects)."""
        key = self._key("batch_losses", batch_size)
        if key not in self._functions:
            graph, params, rest = nnx.split(self.model, self.model._trainable_filter(), ...)
            sample = jax.tree.map(lambda a: jax.ShapeDtypeStruct((batch_size, *np.shape(a)[1:]), _dtype_of(a)),
                                  sample_x)
            self._functions[key] = steps.adds_batch_losses(graph, params, rest, sample)
        return self._functions[key]

    def needs_targets(self) -> bool:
        """Whether the default steps need `y`: a compiled loss or compiled metrics read it; a
        model trained only by its `add_loss` losses does not."""
        return self.loss is not None or bool(self.metric_ids)

    # -- moving arrays between the Python objects and the pure state -----------------------
    def pull(self) -> TrainState:
        self._follow_schedule()
        _, params, rest = nnx.split(self.model, self.model._trainable_filter(), ...)
        if self.optimizer.state is None or self._opt_signature != _signature(params):
            state = self.tx.init(params)
            rate = getattr(self.optimizer, "_learning_rate", None)
            if isinstance(rate, (int, float)):  # a rate assigned after compile() and before fit()
                state = optimizers_lib.set_learning_rate(state, rate)
            self.optimizer.state = state
        self._opt_signature = _signature(params)
        return self._place(_distinct(TrainState(params, rest, self.optimizer.state)))

    def _place(self, state: TrainState) -> TrainState:
        """Puts every array where the distribution wants it (a no-op for arrays already there)."""
        if self.distribution is None:
            return state
        by_path = {}
        for path, variable in nnx.to_flat_state(state.params):
            name = variable.get_metadata("path", None) or "/".join(str(p) for p in path)
            by_path[tuple(path)] = self.distribution.weight_sharding(name, tuple(variable.get_value().shape))
        replicated = self.distribution.replicated()

        def sharding_for(keypath, leaf):
            names = _key_names(keypath)
            for start in range(len(names)):
                sharding = by_path.get(names[start:])
                if sharding is not None and len(sharding.spec) <= jnp.ndim(leaf):
                    return sharding
            return replicated
        shardings = jax.tree_util.tree_map_with_path(sharding_for, state)
        self._state_shardings = shardings
        return jax.tree.map(_put, state, shardings)

    def push(self, state: TrainState) -> None:
        nnx.update(self.model, state.params, state.rest)
        self.optimizer.state = state.opt_state

    # -- compiled functions -------------------------------------------------------------------
    def _key(self, kind: str, *extra) -> tuple:
        return (kind, self.model._structure_key(), *extra)

    def _count(self, kind: str) -> None:
        self.trace_counts[kind] = self.trace_counts.get(kind, 0) + 1

    def use_scan(self) -> bool:
        """Whether the steps of one call run as a `lax.scan` (one compiled body) or unrolled.

        Scan, unless asked otherwise: it keeps compile time flat in the number of steps. (XLA:CPU's
        native convolution is ~18x slower inside a multi-step program, jax-ml/jax#12868; that is why
        Conv2D lowers to patches + matmul on CPU (`kerasish.kernels.conv2d`), which scans at full speed.)
        """
        if self.eager:
            return False
        return self.loop != "unroll"

    def steps_per_call(self, steps: int | None, per_batch_callbacks: bool) -> int:
        """How many steps one compiled call runs: the user's `steps_per_execution`, or with "auto"
        a chunk of up to 32 steps, unless a callback wants every batch.

        Measured on a 2-core CPU (benchmarks/results): one step per call costs the MNIST convnet
        ~45 ms/step of fresh-memory page faults in XLA's runtime; 32 scanned steps per call run it
        1.25x faster than 4 and 1.6x faster than 1, compiling in about the same time. MLPs gain
        the per-step dispatch cost (~15%).
        """
        if self.steps_per_execution != "auto":
            return self.steps_per_execution
        if per_batch_callbacks or self.eager:
            return 1
        return max(1, min(AUTO_STEPS, steps or 1))

    def train_function(self, k: int, skip_empty: bool):
        key = self._key("train", k, skip_empty)
        if key not in self._functions:
            spec, tx, use_scan = self.spec(), self.tx, self.use_scan()

            def train(state, mstate, data, indices, masks):
                self._count("train")
                body = lambda carry, batch: steps.train_step(spec, tx, *carry, batch)  # noqa: E731
                return steps.run_steps(body, (state, mstate), data, indices, masks,
                                       use_scan=use_scan, skip_empty=skip_empty)
            out = None if self.distribution is None else (self._state_shardings, self.distribution.replicated())
            self._functions[key] = self._timed("train", self._jit(train, donate_argnums=(0, 1), out_shardings=out))
        return self._functions[key]

    def eval_function(self, k: int):
        key = self._key("eval", k)
        if key not in self._functions:
            spec, use_scan = self.spec(), self.use_scan()

            def evaluate(state, mstate, data, indices, masks):
                self._count("eval")
                body = partial(steps.eval_step, spec, state)
                return steps.run_steps(body, mstate, data, indices, masks,
                                       use_scan=use_scan, skip_empty=False)
            self._functions[key] = self._timed("eval", self._jit(evaluate, donate_argnums=(1,)))
        return self._functions[key]

    def predict_function(self):
        key = self._key("predict")
        if key not in self._functions:
            spec = self.spec()

            def predict(state, x):
                self._count("predict")
                return steps.predict_step(spec, state, x)
            self._functions[key] = self._timed("predict", self._jit(predict))
        return self._functions[key]

    def _jit(self, fn, **kwargs):
        return fn if self.eager else jax.jit(fn, **kwargs)

    def _timed(self, kind: str, fn):
        """`fn`, whose first call is timed to completion (trace + compile + one run) into
        `compile_seconds[kind]`; later calls go straight to `fn`."""
        box = {"fn": None}

        def first(*args):
            start = time.perf_counter()
            out = jax.block_until_ready(fn(*args))
            self.compile_seconds[kind] = self.compile_seconds.get(kind, 0.0) + time.perf_counter() - start
            box["fn"] = fn
            return out

        def call(*args):
            return (box["fn"] or first)(*args)
        return call

    def init_metric_state(self):
        state = steps.init_metric_state(tuple(self.metrics or ()))
        if self.distribution is not None:
            return jax.device_put(state, self.distribution.replicated())
        return _distinct(state)

    def results(self, mstate) -> dict[str, float]:
        """Reads the metric state back to the host: the only device-to-host transfer of a loop
        (explicitly allowed here, so a run under `jax.transfer_guard_device_to_host("disallow")`
        proves that nothing else reads back per step)."""
        with jax.transfer_guard_device_to_host("allow"):
            return self._results(mstate)

    def _results(self, mstate) -> dict[str, float]:
        total, count = (to_host(a) for a in mstate["loss"])
        logs = {"loss": float(total / max(count, 1.0))}
        for metric, state in zip(self.metrics or (), mstate["metrics"]):
            state = jax.tree.map(lambda a: jnp.asarray(to_host(a)), state)
            value = np.asarray(metric.compute(state))
            logs[metric.name] = float(value) if value.ndim == 0 else value  # per-class metrics log arrays, as Keras
        return logs


#: the chunk size of "auto" steps_per_execution
AUTO_STEPS = 32


def _map_losses(loss):
    """`compile(loss=...)` resolved: one Loss, or a list / dict of them (None entries kept)."""
    if loss is None:
        return None
    if isinstance(loss, dict):
        return {k: None if v is None else losses_lib.get(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [None if v is None else losses_lib.get(v) for v in loss]
    return losses_lib.get(loss)


def _distinct(tree):
    """Copies any leaf that shares its buffer with an earlier one: a donated buffer can be given once."""
    seen: set[int] = set()

    def once(leaf):
        if not isinstance(leaf, jax.Array):
            return leaf
        if id(leaf) in seen:
            return jnp.array(leaf, copy=True)
        seen.add(id(leaf))
        return leaf
    return jax.tree.map(once, tree)


def _put(leaf, sharding):
    """`leaf` placed with `sharding`; across processes, built from this process's copy of the value
    (every process holds the same values: same seed, same updates)."""
    if isinstance(leaf, jax.Array) and leaf.sharding == sharding:
        return leaf
    if jax.process_count() == 1:
        return jax.device_put(leaf, sharding)
    if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        return jax.random.wrap_key_data(_put(jax.random.key_data(leaf), sharding), impl=jax.random.key_impl(leaf))
    value = to_host(leaf)
    return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])


def _key_names(keypath) -> tuple:
    """('layers', 0, 'linear', 'kernel') from a jax key path into an nnx State."""
    names = []
    for entry in keypath:
        name = getattr(entry, "key", getattr(entry, "name", getattr(entry, "idx", None)))
        if name is not None and name != "value":
            names.append(name)
    return tuple(names)


def _signature(tree) -> Any:
    """Tree structure and leaf shapes: whether an optimizer state still fits the parameters."""
    return jax.tree.structure(tree), tuple(jnp.shape(leaf) for leaf in jax.tree.leaves(tree))


def _dtype_of(array) -> Any:
    """An input's dtype as the engine feeds it: float64 data arrives as float32."""
    dtype = np.asarray(array[:1]).dtype if not hasattr(array, "dtype") else np.dtype(array.dtype)
    return np.float32 if dtype == np.float64 else dtype
