"""Shared test setup: Keras 3 (the reference) on its JAX backend, fresh names and seeds per test."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_session():
    import kerasish
    kerasish.clear_session()
    yield
