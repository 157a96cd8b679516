"""Plain gradient descent against adaptive learning rates: SGD, Momentum, Adagrad, RMSprop, Adam.

The notes' comparison: one fixed learning rate for every parameter (SGD) moves slowly along flat
directions; momentum keeps moving in the direction of past gradients; Adagrad divides each
parameter's step by the root of the sum of its past squared gradients (steps shrink over time);
RMSprop uses a running average of them instead (steps do not vanish); Adam is RMSprop plus momentum.
Every optimizer starts from the same initial weights (`get_weights`/`set_weights`) and sees the same
mini-batches, so only the update rule differs.

    python examples/optimizers.py              # 15 epochs each, writes output/optimizers.png
    python examples/optimizers.py --smoke      # a few hundred images, 1 epoch each
"""

import argparse
from pathlib import Path

import kerasish as keras
from kerasish import layers


def build_model() -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=(784,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


OPTIMIZERS = {  # Keras's usual learning rates for each
    "SGD (lr 0.01)": lambda: keras.optimizers.SGD(learning_rate=0.01),
    "Momentum (lr 0.01, 0.9)": lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
    "Adagrad (lr 0.01)": lambda: keras.optimizers.Adagrad(learning_rate=0.01),
    "RMSprop (lr 0.001)": lambda: keras.optimizers.RMSprop(learning_rate=0.001),
    "Adam (lr 0.001)": lambda: keras.optimizers.Adam(learning_rate=0.001),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 15; 1 with --smoke")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="500 training images, 1 epoch each unless --epochs: a quick check")
    parser.add_argument("--out", default=str(Path(__file__).parent / "output"), help="directory for the PNG")
    args = parser.parse_args()
    if args.epochs is None:  # an explicit --epochs wins, also with --smoke
        args.epochs = 1 if args.smoke else 15

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:500], y_train[:500], x_test[:200], y_test[:200]
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    keras.utils.set_random_seed(args.seed)
    initial_weights = build_model().get_weights()

    losses, accuracies, results = {}, {}, {}
    for name, make_optimizer in OPTIMIZERS.items():
        keras.utils.set_random_seed(args.seed)  # the same shuffling of mini-batches for every optimizer
        model = build_model()
        model.set_weights(initial_weights)
        model.compile(optimizer=make_optimizer(), loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=0,
                            validation_data=(x_test, y_test))
        losses[name] = history.history["loss"]
        accuracies[name] = history.history["val_accuracy"]
        results[name] = model.evaluate(x_test, y_test, verbose=0)[1]
        print(f"{name:24s} training loss {losses[name][0]:.4f} (epoch 1) -> {losses[name][-1]:.4f} "
              f"(epoch {args.epochs}), test accuracy {results[name]:.4f}")

    png = keras.utils.plot_curves(
        {"training loss": losses, "test accuracy": accuracies}, Path(args.out) / "optimizers.png",
        title=f"Same network, same initial weights: {len(x_train)} MNIST training images, batch 32")
    print(f"Curves: {png}")
    print("Test accuracy: " + ", ".join(f"{name.split(' (')[0]} {accuracy:.4f}" for name, accuracy in results.items()))


if __name__ == "__main__":
    main()
