"""Keras "Hello World": handwritten digit recognition with a fully connected network.

The notes' first Keras program, written for Keras 3: a 784-500-500-10 network (sigmoid hidden
layers, softmax output), trained by mini-batch gradient descent (batches of 100) on the
cross-entropy between the softmax output and the one-hot target, then scored on the test set.
Step 1 defines the function set (the network), step 2 the goodness of a function (the loss),
step 3 picks the best function (gradient descent).

    python examples/hello_world.py             # 20 epochs, as in the notes
    python examples/hello_world.py --smoke     # a few hundred images, 1 epoch
"""

import argparse

import kerasish as keras
from kerasish import layers

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=None, help="default: 20; 1 with --smoke")
parser.add_argument("--smoke", action="store_true", help="500 training images, 1 epoch unless --epochs: a quick check")
args = parser.parse_args()
if args.epochs is None:  # an explicit --epochs wins, also with --smoke
    args.epochs = 1 if args.smoke else 20
keras.utils.set_random_seed(0)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
if args.smoke:
    x_train, y_train, x_test, y_test = x_train[:500], y_train[:500], x_test[:200], y_test[:200]
x_train = x_train.reshape(-1, 28 * 28).astype("float32") / 255
x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255
y_train = keras.utils.to_categorical(y_train, 10)
y_test = keras.utils.to_categorical(y_test, 10)

# Step 1: define a set of functions (the network).
model = keras.Sequential()
model.add(keras.Input(shape=(28 * 28,)))
model.add(layers.Dense(500, activation="sigmoid"))
model.add(layers.Dense(500, activation="sigmoid"))
model.add(layers.Dense(10, activation="softmax"))

# Step 2: goodness of a function (the loss); step 3: pick the best function (gradient descent).
model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.1),
              metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=100, epochs=args.epochs, verbose=2)

score = model.evaluate(x_test, y_test, verbose=0)
print(f"Total loss on testing set: {score[0]:.4f}")
print(f"Test accuracy: {score[1]:.4f}")
