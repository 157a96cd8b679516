"""fit / evaluate / predict as Python loops around the engine's compiled functions.

Owns: epochs, chunks of `steps_per_execution` steps, callbacks, validation, the progress bar and
when to read values back from the device (only for a drawn progress bar, a callback that asks,
and the end of an epoch). Must not: do any maths of its own on arrays.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from kerasish.callbacks.callback import CallbackList, LazyLogs
from kerasish.callbacks.history import History, ProgbarLogger
from kerasish.metrics import Metric
from kerasish.training import custom_step
from kerasish.training import data as data_lib
from kerasish.training.source import Source
from kerasish.utils.host import to_host


def _check_batch_size(batch_size, name="batch_size") -> None:
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size <= 0):
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={batch_size!r}")


def _verbosity(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def _make_callbacks(model, callbacks, verbose, *, add_history, **params) -> CallbackList:
    callbacks = list(callbacks or [])
    if jax.process_index() != 0:  # in a multi-process run only process 0 prints
        verbose = 0
    if add_history:
        model.history = History()
        callbacks = callbacks + [model.history]
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in callbacks):
        callbacks = [ProgbarLogger()] + callbacks
    return CallbackList(callbacks, model=model, verbose=verbose, **params)


def _check_input(model, x_sample) -> None:
    if x_sample is None:
        return
    if not hasattr(x_sample, "shape"):  # several inputs: the model checks them when called
        model._ensure_built(jax.tree.map(lambda a: (None, *np.shape(a)[1:]), x_sample))
        return
    shape = tuple(x_sample.shape)
    model._ensure_built((None, *shape[1:]))
    expected = model.input_shape if hasattr(type(model), "input_shape") else model._build_shape
    if not isinstance(expected, tuple) or not all(d is None or isinstance(d, int) for d in expected):
        return  # several inputs: each layer checks its own
    if len(expected) != len(shape) or any(e is not None and e != r for e, r in zip(expected[1:], shape[1:])):
        first = model.layers[0].name if model.layers else model.name
        raise ValueError(f"Input 0 of layer \"{first}\" is incompatible with the layer: expected "
                         f"shape={expected}, found shape={shape}")


def _shapes(tree):
    """The shape of each array of a (possibly nested) structure, as tuples."""
    if isinstance(tree, dict):
        return {k: _shapes(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_shapes(v) for v in tree]
    return tuple(np.shape(tree))


def _prepare(model, source: Source, runner=None) -> None:
    if not isinstance(runner, custom_step.CustomRunner):
        _check_input(model, source.sample_x)
        y = source.sample_y
        model._engine.resolve_outputs(None if y is None else _shapes(y), model._output_shape)
        return
    try:
        _check_input(model, source.sample_x)
    except ValueError:
        raise
    except Exception as error:  # Keras's words when a model with its own steps cannot be built from data
        raise RuntimeError("Unable to automatically build the model. Please build it yourself before calling "
                           "fit/evaluate/predict. A model is 'built' when its variables have been created and its "
                           "`self.built` attribute is True. Usually, calling the model on a batch of data is the "
                           f"right way to build it.\nException encountered:\n'{error}'") from error
    y = source.sample_y
    if model._output_shape is not None:
        model._engine.resolve_outputs(None if y is None else _shapes(y), model._output_shape)
    runner.use_source(source)


def _runners(model, engine) -> tuple:
    """(train runner, eval runner): the engine's compiled steps, or the model's own `train_step` /
    `test_step` (`custom_step.CustomRunner`, with the engine's protocol)."""
    runner = custom_step.runner_for(model, engine)
    train = runner if runner is not None and custom_step.overrides(model, "train_step") else engine
    evaluate_ = runner if runner is not None and custom_step.overrides(model, "test_step") else engine
    return train, evaluate_


def _eval_state(model, engine, eval_runner):
    """The state `eval_runner` evaluates, read from the model. A model with its own `train_step`
    keeps its optimizer state in Keras's layout, so the engine's `pull` is not used."""
    if eval_runner is not engine:
        return eval_runner.pull_eval()
    if custom_step.overrides(model, "train_step"):
        return custom_step.default_eval_state(model)
    return engine.pull()


def _exact(engine, runner) -> bool:
    """Whether the engine's path must run a partial batch on its real rows only (one step per call):
    Keras-style metric subclasses among the compiled metrics cannot skip padded rows."""
    return runner is engine and custom_step.needs_exact_batches(engine)


def _batch_losses(engine, runner, source: Source) -> bool:
    """Whether the engine's path must run an epoch's partial last batch on its real rows: the model
    adds losses computed from the batch (`add_loss`, activity regularizers), which padded rows
    would change."""
    return runner is engine and engine.distribution is None and source.sample_x is not None and \
        engine.adds_batch_losses(source.sample_x, source.batch_size)


def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
        initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
        validation_freq=1):
    engine = model._require_compiled()
    _check_batch_size(batch_size)
    _check_batch_size(validation_batch_size, "validation_batch_size")
    verbose = _verbosity(verbose)
    for arg, value in (("epochs", epochs),):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"`{arg}` must be a non-negative integer. Received: {arg}={value!r}")
    if x is None:
        raise ValueError("`fit` needs training data: pass `x` (and `y`).")
    if validation_split and data_lib.is_iterable_data(x):
        raise ValueError("`validation_split` is only supported for arrays, not for generators or iterables.")

    runner, eval_runner = _runners(model, engine)
    # A model's own steps may train without y; so may the default step when the loss is only the
    # model's add_loss (compile without `loss` and without metrics), as in Keras.
    need_y, need_val_y = runner is engine and engine.needs_targets(), eval_runner is engine and engine.needs_targets()
    train = Source(engine, x, y, sample_weight, class_weight, batch_size, steps_per_epoch, need_y=need_y)
    val = None
    if validation_split and validation_data is None:
        train_arrays, val_arrays = train.arrays.split(validation_split)
        train = Source(engine, train_arrays, None, None, None, batch_size, steps_per_epoch, need_y=need_y)
        val = Source(engine, val_arrays, None, None, None, validation_batch_size or batch_size,
                      validation_steps, need_y=need_val_y)
    elif validation_data is not None:
        if data_lib.is_iterable_data(validation_data):
            val = Source(engine, validation_data, None, None, None, validation_batch_size or batch_size,
                          validation_steps, need_y=need_val_y)
        else:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                                 f"val_sample_weight). Received: {type(validation_data).__name__}")
            vx, vy, vsw = (*validation_data, None)[:3]
            val = Source(engine, vx, vy, vsw, None, validation_batch_size or batch_size, validation_steps,
                          need_y=need_val_y)
    _prepare(model, train, runner)
    if val is not None and val.arrays is not None:
        _check_input(model, val.arrays.x)

    cbs = _make_callbacks(model, callbacks, verbose, add_history=True, epochs=epochs, steps=train.steps)
    k = runner.steps_per_call(train.steps, cbs.needs_model_per_batch("on_train_batch_end")
                              or cbs.wants("on_train_batch_begin")) if train.arrays is not None else 1
    exact = _exact(engine, runner)
    k = 1 if exact else k
    sync = _StateSync(runner, cbs)
    train_fn = runner.train_function(k, skip_empty=k > 1)
    if exact:
        train_fn = custom_step.unpadded(train_fn)
    elif _batch_losses(engine, runner, train):
        train_fn = custom_step.exact_tail(train_fn, returns_state=True)
    want_batch_end = cbs.wants("on_train_batch_end")
    want_batch_begin = cbs.wants("on_train_batch_begin")
    model.stop_training = False
    model._in_fit = True
    epoch_logs: dict = {}
    try:
        sync.hook("on_train_begin", {})
        # BackupAndRestore sets where to resume: the epoch, and the steps of it already done.
        initial_epoch = initial_epoch if getattr(model, "_initial_epoch", None) is None else model._initial_epoch
        skip_steps, model._initial_epoch, model._initial_step = getattr(model, "_initial_step", 0), None, 0
        for epoch in range(initial_epoch, epochs):
            sync.hook("on_epoch_begin", epoch, {})
            mstate = runner.init_metric_state()
            for data, idx, msk, last_step in train.chunks(k, shuffle=shuffle and train.arrays is not None,
                                                          seed=engine.seed, epoch=epoch):
                if last_step <= skip_steps:
                    continue
                if want_batch_begin:
                    sync.hook("on_train_batch_begin", last_step - 1)
                state, mstate = train_fn(sync.state, mstate, data, idx, msk)
                sync.trained(state)
                train.pace(mstate)  # at most a few calls in flight: bounded host memory for gathered chunks
                if want_batch_end:
                    logs = LazyLogs(lambda m=mstate: runner.results(m))
                    sync.hook("on_train_batch_end", last_step - 1, logs)
                    logs.expire()
                if model.stop_training:
                    break
            skip_steps = 0
            epoch_logs = dict(sorted(runner.results(mstate).items()))
            _sync_metric_objects(model, runner, mstate)
            if val is not None and (epoch + 1) % validation_freq == 0:
                sync.hook("on_test_begin", {})  # Keras runs validation as an evaluate with the same callbacks
                if eval_runner is runner:  # the training state itself
                    val_state = sync.state
                else:
                    sync.push()
                    val_state = _eval_state(model, engine, eval_runner)
                val_logs = _evaluate_source(model, eval_runner, val_state, val, cbs=cbs)
                sync.hook("on_test_end", dict(val_logs))
                epoch_logs.update({f"val_{k_}": v for k_, v in sorted(val_logs.items())})
            sync.hook("on_epoch_end", epoch, epoch_logs)
            if model.stop_training:
                break
        sync.hook("on_train_end", epoch_logs)  # what it sets (EarlyStopping's best weights) is kept
    finally:
        sync.push()
        model._in_fit = False
    return model.history


#: kerasish's own callbacks that read logs only, never the model's weights or optimizer state
_LOG_ONLY_CALLBACKS = (History, ProgbarLogger)


class _StateSync:
    """The training state of one `fit` and the model object, kept in step lazily.

    The compiled calls take and return the state (`runner.pull()` reads it from the model,
    `runner.push` writes it back); each costs a walk over the model's graph. So the state is pushed
    only before a callback hook that may read the model, and pulled again only after a hook that
    may have changed it (weights set, a learning rate assigned, a layer frozen): a hook that only
    kerasish's History and progress bar listen to needs neither, so a `fit` without callbacks
    reads the model once and writes it back once.
    """

    def __init__(self, runner, cbs: CallbackList):
        self.runner, self.cbs = runner, cbs
        self.state = runner.pull()
        self.in_model = True  # the model's variables hold `state`
        self._touching: dict[str, bool] = {}
        self._hook: str | None = None
        cbs.set_sync(self._before_hook)

    def touches_model(self, hook: str) -> bool:
        """Whether a callback other than the log-only ones listens to `hook` (or its Keras 2 alias)."""
        if hook not in self._touching:
            alias = {"on_train_batch_end": "on_batch_end", "on_train_batch_begin": "on_batch_begin"}.get(hook)
            self._touching[hook] = any((cb.overrides(hook) or (alias is not None and cb.overrides(alias)))
                                       and type(cb) not in _LOG_ONLY_CALLBACKS for cb in self.cbs.callbacks)
        return self._touching[hook]

    def trained(self, state) -> None:
        """A compiled call returned a new state: the model's variables are now stale (donated)."""
        self.state, self.in_model = state, False

    def push(self) -> None:
        if not self.in_model:
            self.runner.push(self.state)
            self.in_model = True

    def _before_hook(self) -> None:
        if self._hook is None or self.touches_model(self._hook):
            self.push()

    def hook(self, name: str, *args) -> None:
        """Calls the callbacks' `name` hook with the model in step with the state around it."""
        self._hook = name
        try:
            getattr(self.cbs, name)(*args)
        finally:
            self._hook = None
        if self.in_model and self.touches_model(name):  # (a batch hook heard only by lazy loggers is not pushed)
            self.state = self.runner.pull()


def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None) -> dict:
    """One optimizer step on exactly this batch (no callbacks, no History); returns its logs."""
    engine = model._require_compiled()
    runner, _ = _runners(model, engine)
    if runner is not engine:
        return _custom_train_on_batch(model, runner, x, y, sample_weight, class_weight)
    source = Source(engine, x, y, sample_weight, class_weight, None, None, need_y=engine.needs_targets())
    source.batch_size = source.arrays.n
    source.steps = 1
    _prepare(model, source)
    state = engine.pull()
    train_fn = engine.train_function(1, skip_empty=False)
    mstate = engine.init_metric_state()
    try:
        for data, idx, msk, _ in source.chunks(1, shuffle=False, seed=0, epoch=0):
            state, mstate = train_fn(state, mstate, data, idx, msk)
    finally:
        engine.push(state)
    return engine.results(mstate)


def _custom_train_on_batch(model, runner, x, y, sample_weight, class_weight) -> dict:
    """A model's own `train_step` on exactly this batch, given `(x, y, sample_weight)` as Keras gives it."""
    source = Source(runner.engine, x, y, sample_weight, class_weight, None, None, need_y=False)
    _prepare(model, source, runner)
    state, mstate = runner.pull(), runner.init_metric_state()
    arrays = source.arrays
    try:
        state, mstate = runner.train_on_batch(state, mstate, arrays.x, arrays.y, arrays.sample_weight)
    finally:
        runner.push(state)
    return runner.results(mstate)


def _evaluate_source(model, engine, state, source: Source, cbs) -> dict:
    """`engine` is the engine or a `CustomRunner`: both have the eval protocol used here."""
    exact = _exact(model._engine, engine)
    per_batch = cbs is not None and (cbs.needs_model_per_batch("on_test_batch_end") or cbs.wants("on_test_batch_begin"))
    k = engine.steps_per_call(source.steps, per_batch) if source.arrays is not None and not exact else 1
    eval_fn = engine.eval_function(k)
    if exact:
        eval_fn = custom_step.unpadded(eval_fn)
    elif _batch_losses(model._engine, engine, source):
        eval_fn = custom_step.exact_tail(eval_fn, returns_state=False)
    mstate = engine.init_metric_state()
    for data, idx, msk, last_step in source.chunks(k, shuffle=False, seed=0, epoch=0):
        if cbs is not None and cbs.wants("on_test_batch_begin"):
            cbs.on_test_batch_begin(last_step - 1)
        mstate = eval_fn(state, mstate, data, idx, msk)
        source.pace(mstate)
        if cbs is not None and cbs.wants("on_test_batch_end"):
            logs = LazyLogs(lambda m=mstate: engine.results(m))
            cbs.on_test_batch_end(last_step - 1, logs)
            logs.expire()
    _sync_metric_objects(model, engine, mstate)
    return engine.results(mstate)


def _sync_metric_objects(model, runner, mstate) -> None:
    """After the engine's steps, `model.metrics` (loss tracker, compiled metrics) hold what they
    computed, as Keras's do after fit / evaluate: device arrays are assigned, nothing is read back.
    (A `CustomRunner` updates the metric objects itself.)"""
    if runner is not model._engine or not isinstance(mstate, dict) or "loss" not in mstate:
        return
    if not all(getattr(leaf, "is_fully_addressable", True) for leaf in jax.tree.leaves(mstate)):
        return  # several processes: the state is a global array; the logs already hold its values
    if model._compiled_metric_objects():
        total, count = mstate["loss"]
        model._loss_tracker.state = {"total": total, "count": count}
    for metric, state in zip(runner.metrics or (), mstate.get("metrics", ())):
        owner = getattr(metric, "metric", metric)
        if isinstance(owner, Metric):
            owner.state = state


def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
             callbacks=None, return_dict=False):
    engine = model._require_compiled()
    _check_batch_size(batch_size)
    verbose = _verbosity(verbose)
    if x is None:
        raise ValueError("`evaluate` needs data: pass `x` and `y`.")
    _, runner = _runners(model, engine)
    source = Source(engine, x, y, sample_weight, None, batch_size, steps,
                    need_y=runner is engine and engine.needs_targets())
    _prepare(model, source, runner)
    cbs = _make_callbacks(model, callbacks, verbose, add_history=False, steps=source.steps)
    state = _eval_state(model, engine, runner)
    cbs.on_test_begin({})
    logs = _evaluate_source(model, runner, state, source, cbs)
    cbs.on_test_end(logs)
    if return_dict:
        return logs
    return model._flatten_logs_in_order(logs)


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
    _check_batch_size(batch_size)
    verbose = _verbosity(verbose)
    engine = model._predict_engine()
    if custom_step.overrides(model, "predict_step"):
        return _custom_predict(model, custom_step.runner_for(model, engine), x, batch_size or 32, verbose, steps,
                               callbacks)
    batch_size = batch_size or 32
    batches, steps = _predict_batches(x, batch_size, steps)
    cbs = _make_callbacks(model, callbacks, verbose, add_history=False, steps=steps)
    outputs, state, fn, size = [], None, None, None
    cbs.on_predict_begin({})
    for i, xb in enumerate(batches):
        if steps is not None and i >= steps:
            break
        n = len(jax.tree.leaves(xb)[0])
        if state is None:
            _check_input(model, xb)
            state, fn, size = _eval_state(model, engine, engine), engine.predict_function(), n
        width = size if engine.distribution is None else engine.distribution.padded_batch(size)
        xb = jax.tree.map(lambda a: data_lib.pad_rows(a, width), xb)
        if engine.distribution is not None:
            xb = jax.tree.map(engine.distribution.distribute, xb)
        if cbs.wants("on_predict_batch_begin"):
            cbs.on_predict_batch_begin(i)
        out = fn(state, xb)
        outputs.append((out, n))
        # Keras hands the batch's outputs to the hook; the lazy progress bar does not read them
        batch_logs = {"outputs": jax.tree.map(lambda a: a[:n], out)} if \
            cbs.needs_model_per_batch("on_predict_batch_end") else {}
        cbs.on_predict_batch_end(i, batch_logs)
    cbs.on_predict_end()
    if not outputs:
        raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). Please use "
                         "`Model.compile(..., run_eagerly=True)`, or `tf.data.Dataset` ... the input was empty.")
    return jax.tree.map(lambda *parts: np.concatenate(parts),
                        *[jax.tree.map(lambda a, n=n: to_host(a)[:n], out) for out, n in outputs])


def _numpy_tree(x):
    """`x` (an array, or a list / tuple / dict of arrays) with NumPy arrays as leaves."""
    if isinstance(x, dict):
        return {k: data_lib.to_numpy(v, f"x[{k!r}]") for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and all(hasattr(v, "shape") for v in x):
        return [data_lib.to_numpy(v, f"x[{i}]") for i, v in enumerate(x)]
    return data_lib.to_numpy(x, "x")


def _predict_batches(x, batch_size: int, steps):
    """The batches of `x` for `predict` (the last one may be smaller), and the number of steps."""
    if data_lib.is_iterable_data(x):
        return (data_lib.unpack_batch(b)[0] for b in x), steps
    arrays = _numpy_tree(x)
    rows = len(jax.tree.leaves(arrays)[0])
    batches = (jax.tree.map(lambda a, i=i: a[i:i + batch_size], arrays) for i in range(0, rows, batch_size))
    return batches, (math.ceil(rows / batch_size) if steps is None else steps)


def _custom_predict(model, runner, x, batch_size, verbose, steps, callbacks):
    """`predict` with the model's own `predict_step`: each batch as it is (the last one smaller)."""
    batches, steps = _predict_batches(x, batch_size, steps)
    cbs = _make_callbacks(model, callbacks, verbose, add_history=False, steps=steps)
    outputs, state, fn = [], None, runner.predict_function()
    cbs.on_predict_begin({})
    for i, xb in enumerate(batches):
        if steps is not None and i >= steps:
            break
        if state is None:
            _check_input(model, xb)
            state = runner.pull_eval()
        if cbs.wants("on_predict_batch_begin"):
            cbs.on_predict_batch_begin(i)
        out, rest = fn(state, xb)
        state = (state[0], rest)
        outputs.append(out)
        cbs.on_predict_batch_end(i, {"outputs": out})
    cbs.on_predict_end()
    if not outputs:
        raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). The input was empty.")
    runner.push(state)
    return jax.tree.map(lambda *parts: np.concatenate([to_host(p) for p in parts]), *outputs)
