"""GroupNormalization, UnitNormalization, RMSNormalization against Keras 3 (the shared contract)."""

import numpy as np
import pytest

import kerasish
from contract import Row, run_contract, table

ROWS = [
    Row("GroupNormalization", dict(groups=2), (2, 3, 4), "groups2"),
    Row("GroupNormalization", dict(groups=-1, epsilon=1e-5), (2, 3, 3, 4), "instance-norm"),
    Row("GroupNormalization", dict(groups=3, axis=1, center=False), (2, 6, 4), "channels-first-no-center"),
    Row("GroupNormalization", dict(groups=1, scale=False), (3, 2, 4), "layer-norm-no-scale"),
    Row("UnitNormalization", {}, (3, 4), "default"),
    Row("UnitNormalization", dict(axis=[1, 2]), (2, 3, 4), "two-axes"),
    Row("RMSNormalization", {}, (3, 5), "default"),
    Row("RMSNormalization", dict(epsilon=1e-3), (2, 3, 4), "epsilon"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_normalization_matches_keras(row):
    run_contract(row)


@pytest.mark.parametrize("call, error, match", [
    (lambda: kerasish.layers.GroupNormalization(groups=0), ValueError, "groups"),
    (lambda: kerasish.layers.GroupNormalization(groups=3)(np.ones((2, 4), "float32")), ValueError, "multiple"),
    (lambda: kerasish.layers.GroupNormalization(groups=8)(np.ones((2, 4), "float32")), ValueError, "more than"),
    (lambda: kerasish.layers.UnitNormalization(axis="last"), TypeError, "axis"),
    (lambda: kerasish.layers.UnitNormalization(axis=3)(np.ones((2, 4), "float32")), ValueError, "out of bounds"),
])
def test_bad_normalization_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()
