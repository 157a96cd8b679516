"""Will I pass this class? A two-feature neural network and the decision boundary it learns.

The notes' smallest example of a neural network as a function: two inputs (hours studied per week,
hours slept per night), one output (the probability of passing). A single logistic neuron can only
draw a straight line through the plane; with a hidden layer the network composes many such lines
into a curved boundary. The synthetic students here pass when they study enough, and need to study
more the further their sleep is from 8 hours (a parabola), with 5% of the labels flipped as noise.

    python examples/pass_the_class.py          # 150 epochs, writes output/pass_the_class.png
    python examples/pass_the_class.py --smoke  # 1 epoch
"""

import argparse
from pathlib import Path

import numpy as np

import kerasish as keras
from kerasish import layers


def make_students(n: int, seed: int):
    """(hours studied, hours slept) -> 1 (pass) or 0 (fail), by a nonlinear rule plus label noise."""
    rng = np.random.default_rng(seed)
    studied = rng.uniform(0, 10, n)
    slept = rng.uniform(3, 11, n)
    passed = studied > 3 + 0.3 * (slept - 8) ** 2
    flip = rng.random(n) < 0.05
    x = np.stack([studied, slept], axis=1).astype("float32")
    return x, (passed ^ flip).astype("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 150; 1 with --smoke")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--smoke", action="store_true", help="1 epoch unless --epochs: a quick check")
    parser.add_argument("--out", default=str(Path(__file__).parent / "output"), help="directory for the PNG")
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)

    x, y = make_students(600, args.seed)
    x_train, y_train, x_test, y_test = x[:480], y[:480], x[480:], y[480:]
    print(f"{len(x_train)} training / {len(x_test)} test students; {y.mean():.0%} of all students pass")

    model = keras.Sequential([
        keras.Input(shape=(2,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    epochs = args.epochs if args.epochs is not None else 1 if args.smoke else 150  # an explicit --epochs wins
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    print(f"Training: loss {history.history['loss'][-1]:.4f}, accuracy {history.history['accuracy'][-1]:.4f} "
          f"after {epochs} epoch(s)")

    for studied, slept in [(2, 8), (6, 8), (6, 4), (9, 4)]:
        p = float(model.predict(np.array([[studied, slept]], "float32"), verbose=0)[0, 0])
        print(f"  studied {studied} h, slept {slept} h: P(pass) = {p:.2f}")

    png = keras.utils.plot_decision_boundary(
        model, x_test, y_test, Path(args.out) / "pass_the_class.png",
        feature_names=("hours studied per week", "hours slept per night"), class_names=("fail", "pass"),
        title="Will I pass this class? (test students, learned boundary)")
    print(f"Decision boundary: {png}")
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
