"""Overfitting, and three of the notes' remedies: L2 regularization, dropout, early stopping.

Trained on only 1,000 images, a 784-512-512-10 network can memorise its training set: the training
loss keeps falling while the loss on held-out images stops falling and then rises. The notes' recipe
when results are good on training data but bad on testing data:

* L2 regularization adds lambda * sum(w^2) to the loss, so every update also shrinks each weight
  towards 0 ("weight decay"); weights that the data does not keep pushing up fade away.
* Dropout drops each hidden unit with probability p at every update, so no unit can rely on
  particular others; at test time all units are used (Keras scales during training instead).
* Early stopping watches the validation loss and stops when it has not improved for `patience`
  epochs, keeping the best weights.

The same model, from the same initial weights, is trained four ways; the PNG shows the training and
validation loss of each (the L2 panel's losses include the penalty, as Keras reports them).

    python examples/overfitting.py             # 50 epochs each; writes output/overfitting.png
    python examples/overfitting.py --smoke     # a few hundred images, 1 epoch each
"""

import argparse
from pathlib import Path

import kerasish as keras
from kerasish import layers


def build_model(l2: float = 0.0, dropout: float = 0.0) -> keras.Sequential:
    regularizer = keras.regularizers.L2(l2) if l2 else None
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(2):
        model.add(layers.Dense(512, activation="relu", kernel_regularizer=regularizer))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(10, activation="softmax", kernel_regularizer=regularizer))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 50; 1 with --smoke")
    parser.add_argument("--train-size", type=int, default=None,
                        help="training images (small, to overfit); default: 1000; 300 with --smoke")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="300 training images, 1 epoch each unless --epochs: a quick check")
    parser.add_argument("--out", default=str(Path(__file__).parent / "output"), help="directory for the PNG")
    args = parser.parse_args()
    # explicit values win, also with --smoke
    args.epochs = args.epochs if args.epochs is not None else 1 if args.smoke else 50
    args.train_size = args.train_size if args.train_size is not None else 300 if args.smoke else 1000

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    n = args.train_size
    x_val, y_val = x_train[-1000:], y_train[-1000:]  # held out: never trained on
    x_train, y_train = x_train[:n], y_train[:n]
    print(f"{len(x_train)} training / {len(x_val)} validation / {len(x_test)} test images")

    variants = {
        "no regularization": dict(model=dict(), callbacks=[]),
        "L2 (lambda = 1e-4)": dict(model=dict(l2=1e-4), callbacks=[]),
        "dropout (p = 0.5)": dict(model=dict(dropout=0.5), callbacks=[]),
        "early stopping (patience 5)": dict(model=dict(), callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)]),
    }
    keras.utils.set_random_seed(args.seed)
    initial_weights = build_model().get_weights()  # Dropout has no weights: one list fits every variant

    curves, results = {}, {}
    for name, variant in variants.items():
        keras.utils.set_random_seed(args.seed)  # the same mini-batches for every variant
        model = build_model(**variant["model"])
        model.set_weights(initial_weights)
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=0,
                            validation_data=(x_val, y_val), callbacks=variant["callbacks"])
        logs = history.history
        _, accuracy = model.evaluate(x_test, y_test, verbose=0)
        results[name] = accuracy
        curves[f"{name}: test accuracy {accuracy:.3f}"] = {"training loss": logs["loss"],
                                                           "validation loss": logs["val_loss"]}
        best = min(range(len(logs["val_loss"])), key=logs["val_loss"].__getitem__)
        print(f"{name:28s} {len(logs['loss']):3d} epochs; training accuracy {logs['accuracy'][-1]:.4f}, "
              f"lowest validation loss {logs['val_loss'][best]:.4f} at epoch {best + 1}; "
              f"test accuracy {accuracy:.4f}")

    png = keras.utils.plot_curves(curves, Path(args.out) / "overfitting.png", ylabel="loss", sharey=True,
                                  title=f"784-512-512-10 trained on {len(x_train)} MNIST images (Adam, batch 32)")
    print(f"Curves: {png}")
    print("Test accuracy: " + ", ".join(f"{name} {accuracy:.4f}" for name, accuracy in results.items()))


if __name__ == "__main__":
    main()
