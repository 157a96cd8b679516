"""An adding machine that reads and writes: a sequence-to-sequence LSTM learns "123+45" -> "168".

The notes stop at networks that see their whole input at once. Here the input is text of varying
length, read one character at a time: an encoder LSTM reads the question (padded with id 0, which
`Embedding(mask_zero=True)` turns into a mask, so the padding is skipped), its final state is
repeated once per answer digit (`RepeatVector`), and a decoder LSTM writes the answer one character
per step, each a softmax over the 12 symbols. Nobody tells the network what a carry is.

Accuracy per character rises long before whole answers come out right; the plot shows both.

    python examples/adding_machine.py          # 3-digit numbers, 30 epochs
    python examples/adding_machine.py --smoke  # 2-digit numbers, 1 epoch
"""

import argparse
from pathlib import Path

import numpy as np

import kerasish as keras
from kerasish import layers

SYMBOLS = " 0123456789+"   # id 0 is the padding
IDS = {c: i for i, c in enumerate(SYMBOLS)}


def make_sums(n: int, digits: int, seed: int):
    """`n` distinct questions "a+b" (a, b < 10**digits) as padded id rows, and their answers
    right-aligned in `digits + 1` characters (padded with spaces)."""
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < n:
        pairs.add(tuple(int(v) for v in rng.integers(0, 10 ** digits, size=2)))
    pairs = sorted(pairs)
    rng.shuffle(pairs)
    length, answer_length = 2 * digits + 1, digits + 1
    questions = np.zeros((n, length), "int32")
    answers = np.zeros((n, answer_length), "int32")
    for row, (a, b) in enumerate(pairs):
        text = f"{a}+{b}"
        questions[row, :len(text)] = [IDS[c] for c in text]
        answers[row] = [IDS[c] for c in str(a + b).rjust(answer_length)]
    return questions, answers


def decode(ids) -> str:
    return "".join(SYMBOLS[i] for i in ids)


def build_model(question_length: int, answer_length: int, units: int) -> keras.Model:
    model = keras.Sequential([
        keras.Input(shape=(question_length,), dtype="int32"),
        layers.Embedding(len(SYMBOLS), 32, mask_zero=True),
        layers.LSTM(units),                                # reads the question, skipping the padding
        layers.RepeatVector(answer_length),               # one copy of the summary per answer digit
        layers.LSTM(units, return_sequences=True),         # writes the answer, one step per digit
        layers.Dense(len(SYMBOLS), activation="softmax"),  # a distribution over symbols at each step
    ], name="adding_machine")
    return model


class WholeAnswers(keras.callbacks.Callback):
    """After each epoch: the share of questions answered exactly (every character right), on some
    training questions (`exact`) and on held-out ones (`val_exact`), added to the epoch's logs."""

    def __init__(self, train, held_out):
        super().__init__()
        self.sets = {"exact": train, "val_exact": held_out}

    def on_epoch_end(self, epoch, logs=None):
        for key, (questions, answers) in self.sets.items():
            guesses = self.model.predict(questions, verbose=0).argmax(-1)
            logs[key] = float(np.mean(np.all(guesses == answers, axis=1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 30; 1 with --smoke")
    parser.add_argument("--digits", type=int, default=None, help="default: 3; 2 with --smoke")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="2-digit sums, 1 epoch unless --epochs")
    parser.add_argument("--out", default=str(Path(__file__).parent / "output"), help="directory for the PNG")
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)

    digits = args.digits or (2 if args.smoke else 3)
    epochs = args.epochs if args.epochs is not None else 1 if args.smoke else 30
    count = 2000 if args.smoke else 30000
    questions, answers = make_sums(count + 1000, digits, args.seed)
    x_train, y_train = questions[:count], answers[:count]
    x_test, y_test = questions[count:], answers[count:]

    model = build_model(questions.shape[1], answers.shape[1], args.units)
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    exact = WholeAnswers((x_train[:500], y_train[:500]), (x_test[:500], y_test[:500]))
    history = model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_data=(x_test, y_test),
                        callbacks=[exact], verbose=2)

    guesses = model.predict(x_test[:8], verbose=0).argmax(-1)
    for question, answer, guess in zip(x_test[:8], y_test[:8], guesses):
        mark = "ok" if np.array_equal(answer, guess) else "  "
        print(f"  {decode(question).strip():>9} = {decode(guess):>{len(answer)}}  {mark} (true: {decode(answer).strip()})")
    png = keras.utils.plot_history(history, Path(args.out) / "adding_machine.png",
                                   metrics=["loss", "accuracy", "exact"],
                                   title=f"LSTM adding {digits}-digit numbers: per character and whole answers")
    print(f"Curves: {png}")
    print(f"Whole answers right on 500 held-out questions: {history.history['val_exact'][-1]:.4f}")
    print(f"Test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")


if __name__ == "__main__":
    main()
