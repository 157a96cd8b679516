"""A simple convnet on MNIST (the notes' CNN: convolution, max pooling, flatten, then a classifier).

Why a CNN for images: a small pattern (a stroke, a corner) is much smaller than the image, the same
pattern appears in different places, and subsampling keeps the picture recognisable. Convolution
(small filters whose weights are shared across positions) uses the first two; max pooling the third;
Flatten hands the remaining feature maps to an ordinary fully connected softmax layer.

This is the classic keras.io example (Conv2D 32 -> MaxPooling -> Conv2D 64 -> MaxPooling -> Flatten
-> Dropout -> Dense softmax; Adam; batch 128; 10% of the training set held out for validation).
By default it trains 15 epochs on the bundled 5,000-image MNIST sample (used when the full data set
is not on this machine; about 97% test accuracy) and 5 epochs on a full 60,000-image data set, so
either finishes in a few minutes on a 2-core CPU. keras.io reports about 99% on full MNIST after
12-15 epochs (`--epochs 15`).

    python examples/mnist_cnn.py                         # MNIST (full, or the bundled 5k sample offline)
    python examples/mnist_cnn.py --dataset fashion_mnist --epochs 12
    python examples/mnist_cnn.py --smoke                 # a few hundred images, 1 epoch, seconds
"""

import argparse
import time
from pathlib import Path

import numpy as np

import kerasish as keras
from kerasish import layers

FULL_SIZE = 60_000


def load(dataset: str, smoke: bool):
    """The data as Keras examples prepare it: floats in [0, 1], shape (n, 28, 28, 1), one-hot labels."""
    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, dataset).load_data()
    if smoke:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    return (x_train, keras.utils.to_categorical(y_train, 10)), (x_test, keras.utils.to_categorical(y_test, 10))


def build_model(num_classes: int = 10) -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "fashion_mnist"], default="mnist")
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: 5 on a full data set (60k images), 15 on the bundled 5k MNIST sample, "
                             "1 with --smoke")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--smoke", action="store_true",
                        help="512 training images, 1 epoch unless --epochs: a quick check")
    parser.add_argument("--out", default=str(Path(__file__).parent / "output"), help="directory for the PNG")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.dataset, args.smoke)
    full = len(x_train) >= FULL_SIZE
    epochs = args.epochs if args.epochs is not None else 1 if args.smoke else 5 if full else 15
    note = ("a smoke-test subset" if args.smoke else "the full data set" if full else
            "NOT the full data set: put mnist.npz (or the 4 IDX files) in ~/.keras/datasets, "
            "or run with KERASISH_DOWNLOAD=1 on a machine with internet access")
    print(f"Data: {args.dataset}, {len(x_train)} training / {len(x_test)} test images ({note})")

    model = build_model()
    model.summary()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=epochs, validation_split=0.1)
    seconds = time.perf_counter() - start

    score = model.evaluate(x_test, y_test, verbose=0)
    png = keras.utils.plot_history(history, Path(args.out) / f"{args.dataset}_cnn_history.png",
                                   title=f"Convnet on {args.dataset}: {len(x_train)} images, 10% of them held out for validation")
    print(f"Trained {epochs} epoch(s) in {seconds:.1f} s; curves: {png}")
    print(f"Test loss: {score[0]:.4f}")
    print(f"Test accuracy: {score[1]:.4f}")


if __name__ == "__main__":
    main()
