"""A deeper fully connected network on MNIST with the notes' "recipe": ReLU, dropout, an adaptive
learning rate.

784-512-512-10 with ReLU hidden layers (no vanishing gradient), dropout 0.2 after each (each
mini-batch trains a thinned network; at test time the full network acts like their average), and
RMSprop (a learning rate per parameter, scaled by a running average of its squared gradients).
This is the Keras "mnist_mlp" example; it reaches about 98.4% on the full MNIST test set.

    python examples/mnist_mlp.py               # 20 epochs
    python examples/mnist_mlp.py --smoke       # a few hundred images, 1 epoch
"""

import argparse

import kerasish as keras
from kerasish import layers


def build_model() -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=(784,)),
        layers.Dense(512, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(512, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 20; 1 with --smoke")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="500 training images, 1 epoch unless --epochs: a quick check")
    args = parser.parse_args()
    if args.epochs is None:  # an explicit --epochs wins, also with --smoke
        args.epochs = 1 if args.smoke else 20
    keras.utils.set_random_seed(args.seed)

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:500], y_train[:500], x_test[:200], y_test[:200]
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    print(f"{len(x_train)} training / {len(x_test)} test images")

    model = build_model()
    model.summary()
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2,
              validation_data=(x_test, y_test))
    score = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {score[0]:.4f}")
    print(f"Test accuracy: {score[1]:.4f}")


if __name__ == "__main__":
    main()
