"""Vanishing gradients: why a deep sigmoid network hardly learns, and how ReLU and Maxout fix it.

The notes' first item of the "recipe of deep learning": a sigmoid squashes a large change of its
input into a small change of its output (its slope is at most 1/4), so the gradient reaching a
layer shrinks at every sigmoid it passes through on its way back from the loss. Layers near the
output get large gradients and learn fast; layers near the input get tiny ones and stay close to
their random start, so the output layers converge on top of random features. ReLU passes gradients
through unchanged where it is active, and Maxout (a learnable piecewise-linear activation, of which
ReLU is a special case) does too.

The gradients are computed the JAX way, on the model's Flax NNX module:
`nnx.split(model.flax_module, nnx.Param, ...)` gives the parameters as a pytree, `jax.grad` of a
loss that `nnx.merge`s them back gives one gradient per kernel.

    python examples/vanishing_gradients.py          # 10 epochs each; writes two PNGs to output/
    python examples/vanishing_gradients.py --smoke  # a few hundred images, 1 epoch each
"""

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import kerasish as keras
from kerasish import layers

DEPTH, WIDTH = 8, 64


def build_model(activation: str) -> keras.Sequential:
    if activation == "maxout":
        hidden = [layers.Maxout(WIDTH, pieces=2) for _ in range(DEPTH)]
    else:
        hidden = [layers.Dense(WIDTH, activation=activation) for _ in range(DEPTH)]
    return keras.Sequential([keras.Input(shape=(784,)), *hidden, layers.Dense(10, activation="softmax")])


def kernel_gradient_norms(model: keras.Sequential, x: np.ndarray, y: np.ndarray) -> list[float]:
    """The norm of d(loss)/d(kernel) for every layer, input side first."""
    graphdef, params, rest = nnx.split(model.flax_module, nnx.Param, ...)

    def loss_fn(params):
        module = nnx.merge(graphdef, params, rest)
        return jnp.mean(keras.losses.categorical_crossentropy(y, module(x)))

    grads = jax.grad(loss_fn)(params)
    norms = {path[1]: float(jnp.linalg.norm(value[...]))
             for path, value in nnx.to_flat_state(grads) if path[-1] == "kernel"}
    return [norms[i] for i in sorted(norms)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 10; 1 with --smoke")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="500 training images, 1 epoch each unless --epochs: a quick check")
    parser.add_argument("--out", default=str(Path(__file__).parent / "output"), help="directory for the PNGs")
    args = parser.parse_args()
    if args.epochs is None:  # an explicit --epochs wins, also with --smoke
        args.epochs = 1 if args.smoke else 10

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:500], y_train[:500], x_test[:200], y_test[:200]
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    norms, losses, results = {}, {}, {}
    for activation in ("sigmoid", "relu", "maxout"):
        keras.utils.set_random_seed(args.seed)
        model = build_model(activation)
        norms[activation] = kernel_gradient_norms(model, x_train[:256], y_train[:256])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=0)
        losses[activation] = history.history["loss"]
        accuracy = results[activation] = model.evaluate(x_test, y_test, verbose=0)[1]
        first, last = norms[activation][0], norms[activation][DEPTH - 1]
        print(f"{activation:8s} gradient norm: layer 1 {first:.2e}, layer {DEPTH} {last:.2e} "
              f"(ratio {first / last:.1e}); after {args.epochs} epoch(s): "
              f"training loss {losses[activation][-1]:.4f}, test accuracy {accuracy:.4f}")

    out = Path(args.out)
    png = keras.utils.plot_gradient_norms(
        norms, out / "vanishing_gradients.png", layer_names=[*map(str, range(1, DEPTH + 1)), "output"],
        title=f"Kernel gradient norm per layer at initialization ({DEPTH} hidden layers of {WIDTH})")
    print(f"Gradient norms: {png}")
    png = keras.utils.plot_curves(losses, out / "vanishing_gradients_loss.png", ylabel="training loss",
                                  title=f"{DEPTH} hidden layers of {WIDTH}, SGD (lr 0.05), {len(x_train)} MNIST images")
    print(f"Training curves: {png}")
    print("Test accuracy: " + ", ".join(f"{name} {accuracy:.4f}" for name, accuracy in results.items()))


if __name__ == "__main__":
    main()
