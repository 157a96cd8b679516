"""The compiled path for models that override `train_step`, `test_step` or `predict_step`.

A Keras 3 model on JAX may define its own steps in the stateless form: `train_step(self, state,
data) -> (logs, state)` with `state = (trainable_variables, non_trainable_variables,
optimizer_variables, metrics_variables)` (lists of arrays), `test_step` with `(trainable,
non_trainable, metrics)`, and `predict_step(self, (trainable, non_trainable), data) -> (outputs,
non_trainable)`. `CustomRunner` runs them for `fit` / `evaluate` / `predict` behind the same
protocol as the engine (`pull`, `push`, `train_function`, `eval_function`, `init_metric_state`,
`results`), so `training.loop` drives both the same way: callbacks, validation, History and the
progress bar see the logs the user's step returns, under the names it gives them.

As in Keras, `data` is `(x, y)`, `(x, y, sample_weight)` or `x`, and a last partial batch reaches the
step with its real size (one more trace), never padded. Full batches run `steps_per_execution` at a
time in one compiled call (a `lax.scan` over the user's step). Metric values are read back to
the host only when logs are wanted, as on the engine's path; the small 0/1 mask of each call's
batches is read on the host to find the partial batch.

Must not: do any maths of its own on the model's values.
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from kerasish.metrics import Metric
from kerasish.training.engine import _distinct
from kerasish.training.step import TrainState
from kerasish.utils.host import to_host

STEP_HOOKS = ("train_step", "test_step", "predict_step")


def overrides(model, hook: str) -> bool:
    """Whether `model`'s class defines its own `hook` (Model's default is the engine's step)."""
    from kerasish.models.stateless import StatelessModel
    return getattr(type(model), hook, None) is not getattr(StatelessModel, hook)


def check_step_signatures(model) -> None:
    """Refuses, with the fix, a step written for another backend (`train_step(self, data)`)."""
    import inspect
    for hook in STEP_HOOKS:
        if overrides(model, hook):
            signature = inspect.signature(getattr(model, hook))
            try:
                signature.bind(None, None)
            except TypeError:
                raise TypeError(f"{type(model).__name__}.{hook} must take `(self, state, data)` and return "
                                f"`(logs, state)`, as Keras 3 on JAX calls it (see the guide \"Customizing what "
                                f"happens in fit() with JAX\"). Received: {hook}{signature}") from None


_RUNNERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def runner_for(model, engine) -> "CustomRunner | None":
    """The runner of `model`'s own steps for this engine (kept, with its compiled functions, as long
    as the engine lives), or None when the model overrides no step."""
    if not any(overrides(model, hook) for hook in STEP_HOOKS):
        return None
    if engine.distribution is not None:
        raise NotImplementedError(f"{type(model).__name__} overrides a step; kerasish does not run a model's own "
                                  "train_step / test_step / predict_step under a keras.distribution yet.")
    runner = _RUNNERS.get(engine)
    if runner is None:
        runner = _RUNNERS[engine] = CustomRunner(model, engine)
    return runner


def needs_exact_batches(engine) -> bool:
    """Whether a compiled metric is a Keras-style subclass (its own `update_state`): such a metric may
    count rows regardless of their weight, so it must never see a padded row."""
    return any(not type(getattr(m, "metric", m))._pure() for m in engine.metrics or []
               if isinstance(getattr(m, "metric", m), Metric))


def unpadded(fn):
    """The engine's one-step function `fn`, given a partial batch's real rows only (a second trace for
    that shape, as in Keras) instead of the padded batch."""
    def run(state, mstate, data, indices, masks):
        n = _real_rows(masks)[0]
        if n < masks.shape[1]:
            data, masks = jax.tree.map(lambda a: a[:, :n], data), np.ones((1, n), np.float32)
        return fn(state, mstate, data, indices, masks)
    return run


def exact_tail(fn, returns_state: bool):
    """The engine's k-step function `fn` (train: `(state, mstate)` back, else `mstate`), with an
    epoch's partial last batch run on its real rows only, in a call of its own (one more trace for
    that shape, as in Keras); in its chunk that batch's mask is zeroed, so the other steps run as
    they are and the padded batch counts for nothing (skipped in training, weight zero in evaluation)."""
    def run(state, mstate, data, indices, masks):
        rows = _real_rows(masks)
        width = masks.shape[1]
        partial = [i for i, n in enumerate(rows) if 0 < n < width]
        if not partial:
            return fn(state, mstate, data, indices, masks)
        i, n = partial[-1], rows[partial[-1]]
        if any(r == width for r in rows):
            zeroed = np.array(masks, copy=True)
            zeroed[i] = 0
            out = fn(state, mstate, data, indices, zeroed)
            state, mstate = out if returns_state else (state, out)
        tail = jax.tree.map(lambda a: a[i:i + 1, :n], data)
        return fn(state, mstate, tail, indices, np.ones((1, n), np.float32))
    return run


def default_eval_state(model) -> TrainState:
    """The engine's state for evaluating or predicting (no optimizer state): used for a model whose
    own `train_step` keeps the optimizer state in Keras's layout, which the engine's `pull` would replace."""
    _, params, rest = nnx.split(model, model._trainable_filter(), ...)
    return TrainState(params, rest, None)


class MetricState(NamedTuple):
    """What a custom step carries besides the model's state: the metric values (in
    `model.metrics_variables` order), the last logs, and (evaluation) the non-trainable values."""
    values: list
    logs: Any
    rest: Any


class CustomRunner:
    """Runs a model's own steps; see the module docstring."""

    def __init__(self, model, engine):
        self.model, self.engine = model, engine
        self.trace_counts: dict[str, int] = {}
        self._functions: dict = {}
        self._form = (True, False)  # (the data have targets, the data have sample weights)

    @property
    def seed(self) -> int:
        return self.engine.seed

    @property
    def distribution(self):
        return self.engine.distribution

    def steps_per_call(self, steps, per_batch_callbacks: bool) -> int:
        return self.engine.steps_per_call(steps, per_batch_callbacks)

    def use_source(self, source) -> None:
        """Takes the data's form (targets? sample weights?) from a `Source`, and builds compiled
        metrics whose state shape comes from the data."""
        if source.arrays is not None:
            self._form = (source.arrays.y is not None, source.arrays.sample_weight is not None)
        else:
            peeked = getattr(source.stream, "_peeked", None) or [()]
            first = peeked[0]
            self._form = (source.sample_y is not None, isinstance(first, (tuple, list)) and len(first) == 3)
        y, y_pred = source.sample_y, self.model._output_shape
        for metric in self.engine.metrics or []:
            metric = getattr(metric, "metric", metric)
            if hasattr(metric, "build") and not getattr(metric, "built", True) and y is not None:
                metric.build(np.shape(y), y_pred)

    # -- moving values between the model's objects and the state ---------------------------
    def pull(self) -> tuple:
        """(trainable, non-trainable, optimizer values), building the optimizer for the model's
        trainable variables the first time."""
        model, optimizer = self.model, self.model.optimizer
        trainable = model.trainable_variables
        if not optimizer._built_with(trainable):
            optimizer.build(trainable)
        return _distinct(([v.get_value() for v in trainable], [v.get_value() for v in model.non_trainable_variables],
                          [v.get_value() for v in optimizer.variables]))

    def pull_eval(self) -> tuple:
        """(trainable, non-trainable values): what `test_step` and `predict_step` read."""
        model = self.model
        return [v.get_value() for v in model.trainable_variables], \
            [v.get_value() for v in model.non_trainable_variables]

    def push(self, state: tuple) -> None:
        trainable, rest = state[0], state[1]
        _put(self.model.trainable_variables, trainable)
        _put(self.model.non_trainable_variables, rest)
        if len(state) > 2:
            _put(self.model.optimizer.variables, state[2])

    def init_metric_state(self) -> MetricState:
        """Keras resets `model.metrics` at the start of each epoch and each evaluation."""
        self.model.reset_metrics()
        return MetricState([v.get_value() for v in self.model.metrics_variables], None, None)

    def results(self, mstate: MetricState) -> dict[str, Any]:
        """The logs of the steps so far, read to the host: the metrics' results if they have the
        same keys as the step's logs (Keras's rule), else the last step's logs. The metric objects
        are updated too."""
        with jax.transfer_guard_device_to_host("allow"):
            _put(self.model.metrics_variables, mstate.values)
            logs = mstate.logs
            if logs is not None and not isinstance(logs, dict):
                raise TypeError("A step must return its logs as a dict of metric names and values, with the "
                                f"state: `return logs, state`. Received logs of type {type(logs).__name__}.")
            if isinstance(logs, dict):
                metric_logs = self.model.get_metrics_result()
                if set(logs) == set(metric_logs):
                    logs = metric_logs
            return pythonify_logs(logs)

    # -- compiled functions ---------------------------------------------------------------------
    def train_function(self, k: int, skip_empty: bool = False):
        """`run(state, mstate, data, indices, masks) -> (state, mstate)` for one chunk of `k` steps."""
        single, chunk = self._compiled("train", 1), (self._compiled("train", k) if k > 1 else None)

        def run(state, mstate, data, indices, masks):
            values, logs = mstate.values, mstate.logs
            rows = _real_rows(masks)
            if chunk is not None and len(rows) == k and all(n == masks.shape[1] for n in rows):
                state, values, logs = chunk(state, values, data)
            else:
                for i, n in enumerate(rows):
                    if n:
                        state, values, logs = single(state, values, _batch(data, i, n))
            return state, MetricState(values, logs, None)
        return run

    def eval_function(self, k: int):
        """`run(state, mstate, data, indices, masks) -> mstate`; the non-trainable values the step
        returns are carried from batch to batch."""
        single = self._compiled("test", 1)

        def run(state, mstate, data, indices, masks):
            values, logs = mstate.values, mstate.logs
            rest = state[1] if mstate.rest is None else mstate.rest
            for i, n in enumerate(_real_rows(masks)):
                if n:
                    rest, values, logs = single(state[0], rest, values, _batch(data, i, n))
            return MetricState(values, logs, rest)
        return run

    def predict_function(self):
        """`fn((trainable, non_trainable), x) -> (outputs, non_trainable)`."""
        return self._compiled("predict", 1)

    def train_on_batch(self, state, mstate: MetricState, x, y, sample_weight):
        """One step on exactly this batch; `data` is `(x, y, sample_weight)`, as Keras passes it."""
        fn = self._compiled("train_on_batch", 1)
        state, values, logs = fn(state, mstate.values, (x, y, sample_weight))
        return state, MetricState(values, logs, None)

    def _compiled(self, kind: str, k: int):
        key = (kind, k, self._form, self.model._structure_key())
        if key not in self._functions:
            self._functions[key] = self._make(kind, k)
        return self._functions[key]

    def _make(self, kind: str, k: int):
        jit = (lambda fn, **kw: fn) if self.engine.eager else jax.jit
        if kind == "predict":
            return jit(self._predict_once)
        if kind == "test":
            return jit(self._test_once)
        once = self._train_once if kind == "train" else self._train_exact
        if k == 1:
            return jit(once, donate_argnums=(0,))

        def chunk(state, values, data):
            def body(carry, batch):
                state, values, logs = once(*carry, batch)
                return (state, values), logs
            (state, values), logs = jax.lax.scan(body, (state, values), data)
            return state, values, jax.tree.map(lambda a: a[-1], logs)
        return jit(chunk, donate_argnums=(0,))

    # -- one step: the user's code, with the state checked ---------------------------------------
    def _count(self, kind: str) -> None:
        self.trace_counts[kind] = self.trace_counts.get(kind, 0) + 1

    def _train_once(self, state, values, batch):
        return self._train_exact(state, values, self._pack(*batch))

    def _train_exact(self, state, values, data):
        self._count("train")
        given = (*state, values)
        logs, new = self.model.train_step(given, data)
        new = _conform(new, given, "train_step")
        return tuple(new[:3]), new[3], _as_logs(logs)

    def _test_once(self, trainable, rest, values, batch):
        self._count("test")
        given = (trainable, rest, values)
        logs, new = self.model.test_step(given, self._pack(*batch))
        new = _conform(new, given, "test_step")
        return new[1], new[2], _as_logs(logs)

    def _predict_once(self, state, x):
        self._count("predict")
        out = self.model.predict_step((list(state[0]), list(state[1])), (x,) if isinstance(x, (list, tuple)) else x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ValueError("`predict_step` must return `(outputs, non_trainable_variables)`, as Keras 3 on JAX "
                             f"expects. Received a {type(out).__name__}.")
        outputs, rest = out
        return outputs, _conform_part(rest, state[1], "predict_step", 1)

    def _pack(self, x, y, sample_weight):
        """The batch as Keras hands it to a step: `(x, y)`, `(x, y, sample_weight)`, or `x`."""
        has_y, has_weights = self._form
        if not has_y:
            return (x,) if isinstance(x, (list, tuple)) else x
        return (x, y, sample_weight) if has_weights else (x, y)


def _real_rows(masks) -> list[int]:
    """The number of real rows of each batch of a call (the masks are small 0/1 arrays)."""
    with jax.transfer_guard_device_to_host("allow"):
        return [int(n) for n in np.asarray(to_host(masks)).sum(axis=1)]


def _batch(data, i: int, n: int):
    """Batch `i` of a call's stacked data, cut to its `n` real rows."""
    return jax.tree.map(lambda a: a[i, :n], data)


def _put(variables: Sequence[nnx.Variable], values: Sequence[Any]) -> None:
    for variable, value in zip(variables, values):
        variable.set_value(value)


def _conform(new, given, hook: str) -> list[list]:
    """The state a step returned, as lists shaped and typed like what it was given."""
    if not isinstance(new, (tuple, list)) or len(new) != len(given):
        raise ValueError(f"`{hook}` must return `(logs, state)` with a state of {len(given)} lists, like the one "
                         f"it received. Received a state of type {type(new).__name__}"
                         + (f" with {len(new)} parts." if isinstance(new, (tuple, list)) else "."))
    return [_conform_part(part, like, hook, index) for index, (part, like) in enumerate(zip(new, given))]


def _conform_part(part, like, hook: str, index: int) -> list:
    part = [v.get_value() if isinstance(v, nnx.Variable) else v for v in part]
    if len(part) != len(like):
        raise ValueError(f"Part {index} of the state returned by `{hook}` has {len(part)} values; it received "
                         f"{len(like)}.")
    conformed = []
    for value, old in zip(part, like):
        value = jnp.asarray(value, dtype=jnp.result_type(old))
        if value.shape != jnp.shape(old):
            raise ValueError(f"`{hook}` returned a value of shape {value.shape} in part {index} of its state, "
                             f"where it received shape {jnp.shape(old)}.")
        conformed.append(value)
    return conformed


def _as_logs(logs):
    return jax.tree.map(jnp.asarray, logs)


def pythonify_logs(logs) -> dict[str, Any]:
    """Keras's `pythonify_logs`: sorted keys, nested dicts flattened into the top level, and
    values as Python floats where they are single numbers."""
    result: dict[str, Any] = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        value = to_host(value) if isinstance(value, jax.Array) else value
        result[key] = float(value) if np.size(value) == 1 and np.asarray(value).dtype.kind in "biuf" else value
    return result
