"""Will I pass, and with what grade? What only the functional API can draw: two inputs, two outputs.

The notes' "will I pass this class?" network grown into a graph. One branch reads this term's habits
(hours studied per week, hours slept per night); another reads the three grades of earlier terms. The
branches meet (concatenate) in a shared hidden layer, which feeds two heads: the probability of
passing (sigmoid, binary cross-entropy) and the expected grade (linear, mean squared error). One loss
per output, weighted, one metric per output; `fit` takes the inputs and targets as dicts keyed by the
layers' names, and History reports `loss`, `pass_loss`, `grade_loss`, `pass_accuracy`, `grade_mae`.

    python examples/study_advisor.py          # 60 epochs
    python examples/study_advisor.py --smoke  # 1 epoch
"""

import argparse

import numpy as np

import kerasish as keras
from kerasish import layers


def make_students(n: int, seed: int):
    """Habits (studied, slept), earlier grades (3 terms, 0-100) -> grade this term, and pass (grade >= 50)."""
    rng = np.random.default_rng(seed)
    studied, slept = rng.uniform(0, 10, n), rng.uniform(3, 11, n)
    earlier = np.clip(rng.normal(60, 15, (n, 3)), 0, 100)
    grade = 0.5 * earlier.mean(1) + 4.0 * studied - 1.5 * (slept - 8) ** 2 + rng.normal(0, 5, n)
    grade = np.clip(grade, 0, 100)
    habits = np.stack([studied, slept], 1).astype("float32")
    return ({"habits": habits, "earlier_grades": (earlier / 100).astype("float32")},
            {"pass": (grade >= 50).astype("float32")[:, None], "grade": (grade / 100).astype("float32")[:, None]})


def build_model() -> keras.Model:
    habits = keras.Input(shape=(2,), name="habits")
    earlier = keras.Input(shape=(3,), name="earlier_grades")
    h = layers.Dense(16, activation="relu")(layers.Rescaling(0.1)(habits))
    g = layers.Dense(8, activation="relu")(earlier)
    shared = layers.Dense(16, activation="relu")(layers.concatenate([h, g]))
    passed = layers.Dense(1, activation="sigmoid", name="pass")(shared)
    grade = layers.Dense(1, name="grade")(shared)
    return keras.Model(inputs=[habits, earlier], outputs={"pass": passed, "grade": grade}, name="study_advisor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 60; 1 with --smoke")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="1 epoch unless --epochs: a quick check")
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)

    x, y = make_students(1200, args.seed)
    split = lambda tree, part: {k: v[part] for k, v in tree.items()}  # noqa: E731
    x_train, y_train = split(x, slice(0, 1000)), split(y, slice(0, 1000))
    x_test, y_test = split(x, slice(1000, None)), split(y, slice(1000, None))

    model = build_model()
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss={"pass": "binary_crossentropy", "grade": "mse"},
                  loss_weights={"pass": 1.0, "grade": 5.0},
                  metrics={"pass": ["accuracy"], "grade": ["mae"]})
    epochs = args.epochs if args.epochs is not None else 1 if args.smoke else 60
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=0)
    print("History keys:", ", ".join(sorted(history.history)))
    logs = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    prediction = model.predict({"habits": np.array([[8.0, 8.0]], "float32"),
                                "earlier_grades": np.array([[0.7, 0.65, 0.8]], "float32")}, verbose=0)
    print(f"Studying 8 h and sleeping 8 h after grades 70/65/80: P(pass) = {float(prediction['pass'][0, 0]):.2f}, "
          f"expected grade {100 * float(prediction['grade'][0, 0]):.0f}")
    print(f"Grade error on test students: {100 * logs['grade_mae']:.1f} points")
    print(f"Test accuracy: {logs['pass_accuracy']:.4f}")


if __name__ == "__main__":
    main()
