"""Layers every model family shares: the stacked LSTMs (run over a sequence, or one step as plain
matrix products), and the fixed pitch-feature tables of chord tokens. Keras layers and ``keras.ops``
only, so any backend runs them."""

from __future__ import annotations

import numpy as np

# A token's pitch features: its MIDI pitches, its pitch classes, and its lowest pitch's class; with
# top-line features also its highest pitch, so the melody's next note is scored directly (a chord
# token alone leaves the model to learn each chord's top note separately).
PITCH_FEATURES = 128 + 12 + 12
TOP_LINE_FEATURES = 128


def lstm_layers(units: list[int], *, recurrent_dropout: float, every_position: bool) -> dict:
    """``lstm_<i>`` layers returning their states; the last returns every position or only its last."""
    import keras

    count = len(units)
    return {
        f"lstm_{index}": keras.layers.LSTM(
            size,
            return_sequences=every_position or index < count - 1,
            return_state=True,
            recurrent_dropout=recurrent_dropout,
            name=f"lstm_{index}",
        )
        for index, size in enumerate(units)
    }


def _one_step_lstm_class():
    import keras
    from keras import ops

    class OneStepLSTM(keras.layers.Layer):
        """One time step of an existing LSTM layer, on its own weights, as plain matrix products.

        Sampling advances one step at a time; running the LSTM layer's sequence loop for a single
        step costs more in loop machinery than in arithmetic.
        """

        def __init__(self, lstm, **kwargs):
            super().__init__(**kwargs)
            self.lstm = lstm

        def call(self, x, h, c):
            cell = self.lstm.cell
            z = ops.matmul(x[:, 0, :], cell.kernel) + ops.matmul(h, cell.recurrent_kernel) + cell.bias
            i, f, g, o = ops.split(z, 4, axis=-1)
            c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
            h = ops.sigmoid(o) * ops.tanh(c)
            return h[:, None, :], h, c

    return OneStepLSTM


def run_lstms(layers: dict, count: int, x, states, *, one_step: bool = False, between=None):
    """Apply ``lstm_0 .. lstm_<count-1>`` from ``states`` (None: zeros); ``between`` (e.g. dropout)
    after each. Returns the last output and the new states [h0, c0, h1, c1, ...]."""
    new_states = []
    step_class = _one_step_lstm_class() if one_step else None
    for index in range(count):
        initial = None if states is None else states[2 * index: 2 * index + 2]
        if one_step:
            x, h, c = step_class(layers[f"lstm_{index}"], name=f"step_{index}")(x, *initial)
        else:
            x, h, c = layers[f"lstm_{index}"](x, initial_state=initial)
        new_states += [h, c]
        if between is not None:
            x = between(x)
    return x, new_states


def pitch_feature_count(top_line: bool) -> int:
    return PITCH_FEATURES + (TOP_LINE_FEATURES if top_line else 0)


def pitch_feature_table(pitch_sets: list[tuple[int, ...]], *, top_line: bool = False) -> np.ndarray:
    """(V, features) 0/1 features of each token's pitch set (all zero for the special tokens)."""
    table = np.zeros((len(pitch_sets), pitch_feature_count(top_line)), dtype="float32")
    for index, pitches in enumerate(pitch_sets):
        for pitch in pitches:
            table[index, pitch] = 1.0
            table[index, 128 + pitch % 12] = 1.0
        if pitches:
            table[index, 140 + min(pitches) % 12] = 1.0
            if top_line:
                table[index, PITCH_FEATURES + max(pitches)] = 1.0
    return table
