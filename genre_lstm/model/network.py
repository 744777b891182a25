"""The two networks, built by one function from a ``ModelConfig``.

``paper``: the reference paper's Fig. 5 layer for layer, fed ids divided by the vocabulary size on a
100-token window and predicting the 101st token (no rhythm). ``default``: embeddings of token,
duration and shift summed at the input, stacked LSTMs trained sequence-to-sequence, and three
softmax heads (token, duration, shift). Keras layers and ``keras.ops`` only, so any backend runs it.

Every LSTM is built with ``return_state=True`` so the same layers also make the inference models:
``prime`` runs a whole seed once and returns the LSTM states, ``step`` advances one step from
given states. Both are used by ``generate``; the training model ignores the states.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, InvalidParameterError
from .tokenizer import N_DURATIONS, N_SHIFTS

PRESETS = ("default", "paper")
HEADS = ("token", "duration", "shift")


@dataclass
class ModelConfig:
    """Everything needed to rebuild a network exactly; saved as genre_lstm.json in a checkpoint."""

    preset: str = "default"
    vocab_size: int = 0
    units: list[int] = field(default_factory=lambda: [256, 256])
    embed_dim: int = 128
    dropout: float = 0.2
    recurrent_dropout: float = 0.0
    dense_units: int = 256  # paper preset only
    window: int = 64  # training window; the paper's input length for the paper preset
    n_durations: int = N_DURATIONS
    n_shifts: int = N_SHIFTS
    pitch_features: bool = False  # default preset: tokens also seen and scored through their pitches
    top_line_features: bool = False  # with pitch_features: each token's highest pitch is a feature of its own

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise InvalidParameterError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        self.units = [int(u) for u in self.units]
        if self.pitch_features and self.preset == "paper":
            raise InvalidParameterError("pitch features are a default-preset option; the paper preset has none")
        if self.top_line_features and not self.pitch_features:
            raise InvalidParameterError("top-line features extend pitch features; set pitch_features too")

    @property
    def has_rhythm(self) -> bool:
        return self.preset == "default"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def for_preset(cls, preset: str, vocab_size: int, **overrides) -> "ModelConfig":
        """The preset's sizes; ``overrides`` change single fields (for experiments and tests)."""
        if preset == "paper":
            base = dict(units=[512, 512, 512], dropout=0.3, recurrent_dropout=0.3, dense_units=256, window=100)
        else:
            base = {}
        base.update(overrides)
        return cls(preset=preset, vocab_size=vocab_size, **base)


def save_config(config: ModelConfig, path: str | Path, extra: dict | None = None) -> None:
    data = {"model": config.to_json(), **(extra or {})}
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")


def build_model(config: ModelConfig):
    """The training network for ``config`` (uncompiled)."""
    if config.vocab_size < 3:
        raise InvalidParameterError(f"vocabulary of {config.vocab_size} tokens is too small to train")
    return _build(config)


def compile_model(model, config: ModelConfig, learning_rate: float = 2e-3) -> None:
    """Adam and cross-entropy on every head (sparse targets: one-hot would not fit in memory)."""
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=config.preset == "default")
    if config.preset == "paper":
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    else:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                      loss={head: loss for head in HEADS})


def _make_layers(config: ModelConfig) -> dict:
    """Every layer of the network, by name; the training and inference models share them."""
    import keras

    count = len(config.units)
    layers = {
        f"lstm_{index}": keras.layers.LSTM(
            units,
            return_sequences=config.preset == "default" or index < count - 1,
            return_state=True,
            recurrent_dropout=config.recurrent_dropout,
            name=f"lstm_{index}",
        )
        for index, units in enumerate(config.units)
    }
    if config.preset == "paper":
        layers.update({
            "batch_norm_0": keras.layers.BatchNormalization(name="batch_norm_0"),
            "dropout_0": keras.layers.Dropout(config.dropout, name="dropout_0"),
            "dense": keras.layers.Dense(config.dense_units, name="dense"),
            "relu": keras.layers.Activation("relu", name="relu"),
            "batch_norm_1": keras.layers.BatchNormalization(name="batch_norm_1"),
            "dropout_1": keras.layers.Dropout(config.dropout, name="dropout_1"),
            "token_logits": keras.layers.Dense(config.vocab_size, name="token_logits"),
            "token": keras.layers.Activation("softmax", name="token"),
        })
        return layers
    sizes = {"token": config.vocab_size, "duration": config.n_durations, "shift": config.n_shifts}
    for head, size in sizes.items():
        layers[f"{head}_embedding"] = keras.layers.Embedding(size, config.embed_dim, name=f"{head}_embedding")
        layers[f"{head}_logits"] = keras.layers.Dense(size, name=f"{head}_logits")
    # The next step's duration depends on its token, and its shift on both: these additive terms
    # make the rhythm heads conditional (teacher-forced in training, looked up after sampling).
    layers["duration_given_token"] = keras.layers.Embedding(config.vocab_size, config.n_durations,
                                                            name="duration_given_token")
    layers["shift_given_token"] = keras.layers.Embedding(config.vocab_size, config.n_shifts, name="shift_given_token")
    layers["shift_given_duration"] = keras.layers.Embedding(config.n_durations, config.n_shifts,
                                                            name="shift_given_duration")
    layers["duration_sum"] = keras.layers.Add(name="duration_sum")
    layers["shift_sum"] = keras.layers.Add(name="shift_sum")
    if config.pitch_features:
        # Fixed tables of each token's pitches (set by ``set_pitch_tables``): the input adds a projection
        # of the sounding pitches, the output adds a score per pitch summed over each token's pitches,
        # so what is learned of one chord carries over to every chord sharing its notes or key.
        features = pitch_feature_count(config.top_line_features)
        layers["token_pitches"] = keras.layers.Embedding(config.vocab_size, features, trainable=False,
                                                         name="token_pitches")
        layers["pitch_embedding"] = keras.layers.Dense(config.embed_dim, use_bias=False, name="pitch_embedding")
        layers["pitch_query"] = keras.layers.Dense(features, name="pitch_query")
        layers["pitch_scores"] = keras.layers.Dense(config.vocab_size, use_bias=False, trainable=False,
                                                    name="pitch_scores")
        layers["token_sum"] = keras.layers.Add(name="token_sum")
    layers["sum_embeddings"] = keras.layers.Add(name="sum_embeddings")
    layers["dropout"] = keras.layers.Dropout(config.dropout, name="dropout")
    return layers


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


def _forward(config: ModelConfig, layers: dict, inputs, states, *, training_graph: bool, one_step: bool = False):
    """Apply the layers; the inference graph skips dropout and keeps only the last position;
    ``one_step`` advances a single position from given states with plain matrix products."""
    paper = config.preset == "paper"
    if paper:
        x = inputs
    else:
        embedded = [layers[f"{h}_embedding"](inputs[h]) for h in HEADS]
        if config.pitch_features:
            embedded.append(layers["pitch_embedding"](layers["token_pitches"](inputs["token"])))
        x = layers["sum_embeddings"](embedded)
    if training_graph and not paper:
        x = layers["dropout"](x)
    new_states = []
    step_class = _one_step_lstm_class() if one_step else None
    for index in range(len(config.units)):
        initial = None if states is None else states[2 * index: 2 * index + 2]
        if one_step:
            x, h, c = step_class(layers[f"lstm_{index}"], name=f"step_{index}")(x, *initial)
        else:
            x, h, c = layers[f"lstm_{index}"](x, initial_state=initial)
        new_states += [h, c]
        if training_graph and not paper:
            x = layers["dropout"](x)
    if paper and one_step:
        x = x[:, 0, :]  # the paper's last LSTM returns only its last output
    if paper:
        for name in ("batch_norm_0", "dropout_0", "dense", "relu", "batch_norm_1", "dropout_1", "token_logits", "token"):
            if training_graph or not name.startswith("dropout"):
                x = layers[name](x)
        return (x if training_graph else {"token": x}), new_states
    if not training_graph:
        x = x[:, -1, :]  # the rhythm terms of the sampled token are added by the sampler
        return {head: _head_logits(config, layers, head, x) for head in HEADS}, new_states
    outputs = {
        "token": _head_logits(config, layers, "token", x),
        "duration": layers["duration_sum"]([layers["duration_logits"](x),
                                        layers["duration_given_token"](inputs["next_token"])]),
        "shift": layers["shift_sum"]([layers["shift_logits"](x), layers["shift_given_token"](inputs["next_token"]),
                                  layers["shift_given_duration"](inputs["next_duration"])]),
    }
    return outputs, new_states


def _head_logits(config: ModelConfig, layers: dict, head: str, x):
    logits = layers[f"{head}_logits"](x)
    if head == "token" and config.pitch_features:
        logits = layers["token_sum"]([logits, layers["pitch_scores"](layers["pitch_query"](x))])
    return logits


# A token's pitch features: its MIDI pitches, its pitch classes, and its lowest pitch's class; with
# top-line features also its highest pitch, so the melody's next note is scored directly (a chord
# token alone leaves the model to learn each chord's top note separately).
PITCH_FEATURES = 128 + 12 + 12
TOP_LINE_FEATURES = 128


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


def set_pitch_tables(model, config: ModelConfig, pitch_sets: list[tuple[int, ...]]) -> None:
    """Fill a new ``pitch_features`` model's fixed tables from its vocabulary (weights files keep them)."""
    table = pitch_feature_table(pitch_sets, top_line=config.top_line_features)
    model.get_layer("token_pitches").set_weights([table])
    model.get_layer("pitch_scores").set_weights([table.T])


TEACHER_INPUTS = ("next_token", "next_duration")


def _model_inputs(config: ModelConfig, length, teacher: bool = False):
    """Inputs by name; the training graph also takes the next step's token and duration."""
    import keras

    if config.preset == "paper":
        return keras.Input((length, 1), name="window")
    names = HEADS + (TEACHER_INPUTS if teacher else ())
    return {h: keras.Input((length,), dtype="int32", name=h) for h in names}


def rhythm_tables(model) -> dict[str, "object"]:
    """The conditional rhythm terms as arrays: duration|token (V, D), shift|token (V, S), shift|duration (D, S)."""
    return {name: model.get_layer(name).get_weights()[0]
            for name in ("duration_given_token", "shift_given_token", "shift_given_duration")}


def _build(config: ModelConfig):
    import keras

    inputs = _model_inputs(config, config.window if config.preset == "paper" else None, teacher=True)
    outputs, _ = _forward(config, _make_layers(config), inputs, None, training_graph=True)
    return keras.Model(inputs, outputs, name=f"genre_lstm_{config.preset}")


def input_names(config: ModelConfig) -> tuple[str, ...]:
    """Order of the non-state inputs and outputs of the inference models."""
    return ("token",) if config.preset == "paper" else HEADS


def inference_models(model, config: ModelConfig):
    """(prime, step) models sharing ``model``'s layers, with flat list inputs and outputs.

    prime: [seed inputs (B, T)...] -> [outputs at the last position..., h0, c0, h1, c1, ...];
    step: [one position (B, 1)..., h0, c0, ...] -> the same. Inputs are ``input_names(config)``
    (the paper preset takes its scaled ids as one (B, T, 1) float input); outputs are logits
    (default) or probabilities (paper), in the same order.
    """
    import keras

    layers = {layer.name: layer for layer in model.layers}
    names = input_names(config)

    def flat(inputs, states):
        outputs, new_states = _forward(config, layers, inputs, states, training_graph=False)
        return [outputs[name] for name in names] + new_states

    def as_dict(tensors):
        return tensors[0] if config.preset == "paper" else dict(zip(names, tensors))

    def inputs(length):
        if config.preset == "paper":
            return [keras.Input((length, 1))]
        return [keras.Input((length,), dtype="int32") for _ in names]

    seed = inputs(None)
    prime = keras.Model(seed, flat(as_dict(seed), None), name="prime")
    one = inputs(1)
    states = [keras.Input((units,)) for units in config.units for _ in ("h", "c")]
    step_outputs, step_states = _forward(config, layers, as_dict(one), states, training_graph=False, one_step=True)
    step = keras.Model(one + states, [step_outputs[name] for name in names] + step_states, name="step")
    return prime, step


def check_vocab_fits(config: ModelConfig, vocab_size: int, where: str) -> None:
    """Refuse a checkpoint whose vocabulary and model disagree, before any weight is read."""
    if config.vocab_size != vocab_size:
        raise CheckpointError(
            f"{where}: the model expects {config.vocab_size} tokens but the vocabulary has {vocab_size}"
        )
