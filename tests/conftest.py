"""Shared test setup: Keras 3 (the reference) on its JAX backend, fresh names and seeds per test."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Each pytest-xdist worker has one of the two cores: XLA's own thread pools would only fight over it
# (measured on the op tables: about half the CPU time).
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_session():
    import kerasish
    kerasish.clear_session()
    yield
