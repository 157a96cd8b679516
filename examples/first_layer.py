"""Look at the first layer: what a convnet's first convolution learned, and what it does to an image.

The notes' way into a trained network: the first layer's filters can be drawn as images, since
they are applied to pixels directly. Each 3x3 filter is a tiny pattern detector (edges at different
orientations, bright-dark transitions); its feature map lights up where that pattern occurs in the
image, at any position, because the same weights are shared across the whole image.

This trains the keras.io MNIST convnet for a few epochs, then draws
`model.layers[0].get_weights()[0]` (the kernel, shape (3, 3, 1, 32)) and the 32 feature maps that
layer produces for one test digit (calling the layer directly: `model.layers[0](x)`).

    python examples/first_layer.py             # 3 epochs; writes two PNGs to output/
    python examples/first_layer.py --smoke     # a few hundred images, 1 epoch
"""

import argparse
from pathlib import Path

import numpy as np

import kerasish as keras
from kerasish import layers


def build_model() -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 3; 1 with --smoke")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="512 training images, 1 epoch unless --epochs: a quick check")
    parser.add_argument("--out", default=str(Path(__file__).parent / "output"), help="directory for the PNGs")
    args = parser.parse_args()
    if args.epochs is None:  # an explicit --epochs wins, also with --smoke
        args.epochs = 1 if args.smoke else 3
    keras.utils.set_random_seed(args.seed)

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)

    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=args.epochs, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)

    first = model.layers[0]
    kernel, bias = first.get_weights()
    print(f"First layer '{first.name}': kernel {kernel.shape}, bias {bias.shape}")
    image = x_test[:1]                      # one digit, shape (1, 28, 28, 1)
    maps = np.asarray(first(image))         # its 32 feature maps, shape (1, 26, 26, 32)
    print(f"Feature maps of test image 0 (a {y_test[0]}): {maps.shape}")

    out = Path(args.out)
    png = keras.utils.plot_filters(kernel, out / "first_layer_filters.png",
                                   title=f"The 32 learned 3x3 filters of '{first.name}'")
    print(f"Filters: {png}")
    png = keras.utils.plot_feature_maps(maps, out / "first_layer_outputs.png", image=image[0],
                                        title=f"'{first.name}' outputs (after ReLU) for a test digit {y_test[0]}")
    print(f"Feature maps: {png}")
    print(f"Test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
