"""The NumPy reference against Keras, property by property, and by hand on tiny cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from verify import reference
from verify.suite.properties import run_id, runs


@pytest.mark.parametrize("run", runs("lstm_forward", "gru_forward", "simple_rnn_forward",
                                     "stateful_forward"), ids=run_id)
def test_reference_equals_keras(check_property: Any, run: tuple[str, str | None]) -> None:
    name, stratum = run
    check_property(name, stratum)


def test_one_step_by_hand() -> None:
    """The step equations with numbers small enough to check on paper (u=1, d=1)."""
    kernel = np.array([[0.5, -0.5, 1.0, 0.25]])         # W_i, W_f, W_c, W_o
    recurrent_kernel = np.array([[0.1, 0.2, 0.3, 0.4]])
    bias = np.array([0.0, 1.0, 0.0, 0.0])
    x = np.array([[[2.0]]])
    h0, c0 = np.array([[0.5]]), np.array([[-1.0]])
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    i = sigmoid(2 * 0.5 + 0.5 * 0.1)
    f = sigmoid(2 * -0.5 + 0.5 * 0.2 + 1.0)
    g = np.tanh(2 * 1.0 + 0.5 * 0.3)
    o = sigmoid(2 * 0.25 + 0.5 * 0.4)
    c = f * -1.0 + i * g
    output, h, c_out = reference.lstm(x, kernel, recurrent_kernel, bias, return_state=True,
                                      initial_state=[h0, c0])
    np.testing.assert_allclose(c_out, [[c]], rtol=1e-15)
    np.testing.assert_allclose(h, [[o * np.tanh(c)]], rtol=1e-15)
    np.testing.assert_array_equal(output, h)


def test_go_backwards_reads_from_the_end_and_returns_processing_order() -> None:
    rng = np.random.default_rng(0)
    kernel, recurrent_kernel = rng.normal(size=(2, 12)), rng.normal(size=(3, 12))
    x = rng.normal(size=(2, 5, 2))
    backwards = reference.lstm(x, kernel, recurrent_kernel, go_backwards=True,
                               return_sequences=True)
    forwards_on_reversed = reference.lstm(x[:, ::-1], kernel, recurrent_kernel,
                                          return_sequences=True)
    # Equal up to float64 rounding: BLAS may sum a reversed view in another order.
    np.testing.assert_allclose(backwards, forwards_on_reversed, rtol=1e-12, atol=1e-15)


def test_dtype_is_honoured_where_asked() -> None:
    x = np.ones((1, 2, 1), np.float32)
    weights = [np.full((1, 4), 0.5), np.full((1, 4), 0.5)]
    assert reference.lstm(x, *weights).dtype == np.float64
    assert reference.lstm(x, *weights, dtype=np.float32).dtype == np.float32


def test_use_bias_false_is_a_zero_bias() -> None:
    rng = np.random.default_rng(1)
    kernel, recurrent_kernel, x = rng.normal(size=(2, 8)), rng.normal(size=(2, 8)), \
        rng.normal(size=(3, 4, 2))
    np.testing.assert_array_equal(reference.lstm(x, kernel, recurrent_kernel),
                                  reference.lstm(x, kernel, recurrent_kernel, np.zeros(8)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def test_one_gru_step_by_hand_both_conventions() -> None:
    """u=1, d=1: z, r, h blocks [z, r, h]; reset_after=True puts r on (h U_h + b_rec_h),
    reset_after=False on h before the matmul (with one bias row)."""
    kernel = np.array([[0.5, -0.5, 1.0]])            # W_z, W_r, W_h
    recurrent_kernel = np.array([[0.1, 0.2, 0.3]])  # U_z, U_r, U_h
    x, h0 = np.array([[[2.0]]]), np.array([[0.5]])
    b_in, b_rec = np.array([0.1, 0.2, 0.3]), np.array([-0.1, 0.4, 0.6])
    z = _sigmoid(2 * 0.5 + 0.1 + 0.5 * 0.1 - 0.1)
    r = _sigmoid(2 * -0.5 + 0.2 + 0.5 * 0.2 + 0.4)
    hh = np.tanh(2 * 1.0 + 0.3 + r * (0.5 * 0.3 + 0.6))
    output, h = reference.gru(x, kernel, recurrent_kernel, np.stack([b_in, b_rec]),
                              return_state=True, initial_state=[h0])
    np.testing.assert_allclose(h, [[z * 0.5 + (1 - z) * hh]], rtol=1e-15)
    np.testing.assert_array_equal(output, h)
    z = _sigmoid(2 * 0.5 + 0.1 + 0.5 * 0.1)
    r = _sigmoid(2 * -0.5 + 0.2 + 0.5 * 0.2)
    hh = np.tanh(2 * 1.0 + 0.3 + (r * 0.5) * 0.3)
    h = reference.gru(x, kernel, recurrent_kernel, b_in, reset_after=False, initial_state=[h0])
    np.testing.assert_allclose(h, [[z * 0.5 + (1 - z) * hh]], rtol=1e-15)


def test_one_simple_rnn_step_by_hand() -> None:
    output, h = reference.simple_rnn(np.array([[[2.0]]]), np.array([[0.5]]), np.array([[0.25]]),
                                     np.array([0.1]), return_state=True,
                                     initial_state=[np.array([[-1.0]])])
    np.testing.assert_allclose(h, [[np.tanh(2 * 0.5 - 0.25 + 0.1)]], rtol=1e-15)
    np.testing.assert_array_equal(output, h)


def test_the_two_gru_conventions_are_different_functions() -> None:
    """Without a bias the arrays fit both conventions; only reset_after tells them apart."""
    rng = np.random.default_rng(3)
    x, kernel, recurrent = (rng.uniform(-1, 1, size) for size in ((2, 5, 3), (3, 12), (4, 12)))
    after = reference.gru(x, kernel, recurrent, reset_after=True)
    before = reference.gru(x, kernel, recurrent, reset_after=False)
    assert np.abs(after - before).max() > 1e-3
