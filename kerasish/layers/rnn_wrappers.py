"""Wrappers around other layers: `Bidirectional` (a recurrent layer run forwards and backwards, the
two outputs merged) and `TimeDistributed` (a layer applied to every timestep).

Owns: merging and time distribution. Must not: loop over time itself (`rnn.RNN` does).
"""

from __future__ import annotations

import copy

import jax.numpy as jnp

from kerasish.layers.base import Layer
from kerasish.layers.rnn_cells import call_accepts
from kerasish.serialization import layer_config, serialize_keras_object

__all__ = ["Bidirectional", "TimeDistributed", "Wrapper"]

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _deserialize(config, custom_objects=None):
    from kerasish.layers import deserialize
    return deserialize(config, custom_objects) if isinstance(config, dict) else config


def _clone(layer: Layer, **overrides) -> Layer:
    """A new layer of the same class and config (fresh weights), with some config keys replaced."""
    config = copy.deepcopy(layer.get_config())
    config.update(overrides)
    return type(layer).from_config(config)


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


class Wrapper(Layer):
    """Base of the layers that wrap another layer (`self.layer`); its config holds the wrapped
    layer's serialized config under `layer`."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure wrapped "
                             "layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self):
        return {**layer_config(self), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        return cls(_deserialize(config.pop("layer"), custom_objects), **config)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards over the sequence and merges the two.

    Args:
        layer: an `RNN` (LSTM, GRU, ...); its config is copied into `forward_layer` (named
            `forward_<name>`) and, with `go_backwards` flipped, into `backward_layer`.
        merge_mode: "concat" (default), "sum", "mul", "ave", or None for a list of both outputs.
        weights: optional initial weights (forward then backward), set when built.
        backward_layer: optional layer to use for the backward direction instead of a copy.

    Example:
        >>> keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))(np.ones((2, 5, 3))).shape
        (2, 5, 8)
    """

    def __init__(self, layer, merge_mode: str | None = "concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        super().__init__(**kwargs)
        self.forward_layer = _clone(layer, name=f"forward_{_strip(layer.name, 'forward_')}")
        if backward_layer is None:
            backward_layer = _clone(layer, go_backwards=True, name=f"backward_{_strip(layer.name, 'backward_')}")
        self.backward_layer = backward_layer
        for attribute in ("go_backwards", "stateful", "return_sequences", "return_state"):
            if not hasattr(self.forward_layer, attribute) or not hasattr(self.backward_layer, attribute):
                raise ValueError("Bidirectional wraps recurrent layers (with `go_backwards`, `return_sequences`, "
                                 f"`return_state`, `stateful`). Received: {layer}")
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError("Forward layer and backward layer should have different `go_backwards` value. Received: "
                             f"forward_layer.go_backwards {self.forward_layer.go_backwards}, "
                             f"backward_layer.go_backwards={self.backward_layer.go_backwards}")
        for attribute in ("stateful", "return_sequences", "return_state"):
            forward, backward = getattr(self.forward_layer, attribute), getattr(self.backward_layer, attribute)
            if forward != backward:
                raise ValueError("Forward layer and backward layer are expected to have the same value for "
                                 f'attribute "{attribute}", got "{forward}" for forward layer and "{backward}" '
                                 "for backward layer")
        # Padded steps give zeros in both directions, so the merged sequence is zero there (Keras does this).
        for direction in (self.forward_layer, self.backward_layer):
            if hasattr(direction, "zero_output_for_mask"):
                direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = None if weights is None else list(weights)
        self.stateful = self.forward_layer.stateful
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.supports_masking = True

    def _sublayers(self):
        return [self.forward_layer, self.backward_layer]  # Keras's weight order, whatever was created first

    def build(self, sequences_shape, initial_state_shape=None):
        for direction in (self.forward_layer, self.backward_layer):
            if not direction.built:
                direction.build(sequences_shape)
                direction.built = True
        self.built = True
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shapes = ()
        if self.return_state:
            output_shape, state_shapes = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = (*output_shape[:-1], output_shape[-1] * 2)
        elif self.merge_mode is None:
            output_shape = [output_shape, output_shape]
        if self.return_state:
            head = tuple(output_shape) if self.merge_mode is None else (output_shape,)
            return head + state_shapes + state_shapes
        return tuple(output_shape)

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            output_mask = mask if self.merge_mode else [mask, mask]
        else:
            output_mask = None if self.merge_mode else [None, None]
        if self.return_state:
            states = [None] * (2 * len(self.forward_layer.state_size))
            heads = output_mask if isinstance(output_mask, list) else [output_mask]
            return heads + states
        return output_mask

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask, training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask, training=training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        y, y_rev = y.astype(self.compute_dtype), y_rev.astype(self.compute_dtype)
        if self.return_sequences:
            y_rev = jnp.flip(y_rev, axis=1)  # the backward layer returns its outputs in processing order
        if self.merge_mode == "concat":
            output = [jnp.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) / 2]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return tuple(output + states)
        return output[0]

    @property
    def states(self):
        forward, backward = self.forward_layer.states, self.backward_layer.states
        return tuple(forward + backward) if forward and backward else None

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def get_config(self):
        return {**layer_config(self, merge_mode=self.merge_mode), "layer": serialize_keras_object(self.forward_layer),
                "backward_layer": serialize_keras_object(self.backward_layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = _deserialize(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize(config["backward_layer"], custom_objects)
        return cls(**config)


class TimeDistributed(Wrapper):
    """Applies `layer` to every timestep (axis 1) of (batch, time, ...) inputs, with the same weights.

    The timesteps are folded into the batch (one call of the layer on (batch * time, ...)), which
    gives the per-step results of Keras's loop for every layer whose output for a sample does not
    depend on the rest of the batch (not BatchNormalization in training, which Keras normalizes
    per timestep).

    Example:
        >>> keras.layers.TimeDistributed(keras.layers.Dense(8))(np.ones((2, 5, 3), "float32")).shape
        (2, 5, 8)
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    @staticmethod
    def _child_shape(input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1], *child[1:])

    def build(self, input_shape):
        super().build(self._child_shape(tuple(input_shape)))

    def call(self, inputs, training=None, mask=None):
        inputs = jnp.asarray(inputs)
        batch, steps = inputs.shape[0], inputs.shape[1]
        if mask is not None:
            mask = jnp.asarray(mask)
            if mask.ndim < 2:
                raise ValueError("The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                                 f"`(batch_size, timesteps)`), but it has {mask.ndim} dimension(s) with shape "
                                 f"{tuple(mask.shape)}.")
            if tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} "
                                 f"that is incompatible with the input shape {tuple(inputs.shape)}. The first two "
                                 "dimensions of the mask (batch size and timesteps) must match the input's first two "
                                 f"dimensions. Expected mask shape prefix: ({batch}, {steps}).")
        kwargs = {}
        if call_accepts(self.layer, "training"):
            kwargs["training"] = training
        if call_accepts(self.layer, "mask") and mask is not None:
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        # Keras calls the wrapped layer's `call` directly (no activity regularizer per step); so do we.
        outputs = self.layer.call(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        return outputs.reshape(batch, steps, *outputs.shape[1:])
