"""The model families, each a builder behind one interface: how its network is sized, laid out, fed,
trained and read. Code elsewhere asks a config's preset (``preset_of``) instead of testing names.

``paper``: the reference paper's Fig. 5 layer for layer, fed ids divided by the vocabulary size on a
100-token window and predicting the 101st token (no rhythm). ``default``: embeddings of token,
duration and shift summed at the input, stacked LSTMs trained sequence-to-sequence, and three
heads (token, duration, shift), the rhythm heads conditioned on the sampled token. With
``metric_position`` it also sees where the step it predicts falls in its bar: embeddings of that
position (grid units from the bar line) and of the bar's time signature join the sum. With
``range_conditioning`` it sees the piece's register at every step: embeddings of its lowest and
highest pitch (in generation, the seed's). With two or more ``parts`` every step also has a part:
an embedding of its part joins the input sum, a fourth head predicts the next step's part, and the
token, duration and shift heads are conditioned on that part (teacher-forced in training, sampled
first in generation), as the rhythm heads are on the token: the compound events of the Multitrack
Music Transformer, one field after another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from .network import ModelConfig

HEADS = ("token", "duration", "shift")
TEACHER_INPUTS = ("next_token", "next_duration")
METRIC_INPUTS = ("position", "meter")  # of the step being predicted: known before it is sampled
RANGE_INPUTS = ("low", "high")  # the piece's lowest and highest pitch (0 and 0: not known)
PART = "part"  # the input and head of models with parts
PART_TABLES = ("token_given_part", "duration_given_part", "shift_given_part")
PREVIOUS_TABLE = "token_given_previous"  # (129, V): the token given the latest pitch of its part (128: none yet)
PREVIOUS_INPUT = "next_previous"  # teacher input: the latest pitch of the predicted step's part
CONDITIONAL_TABLES = ("duration_given_token", "shift_given_token", "shift_given_duration") + PART_TABLES + (PREVIOUS_TABLE,)


class Preset:
    """One model family. Every method takes the checkpoint's ``ModelConfig``."""

    name: str
    has_rhythm: bool  # duration and shift heads (else the paper's random offsets)
    outputs_logits: bool  # the token head gives logits (else probabilities)
    sequence_to_sequence: bool  # trained on whole windows, every position a target
    output_names: tuple[str, ...]  # the inference models' non-state outputs, in order

    def input_names(self, config: "ModelConfig") -> tuple[str, ...]:
        """The inference models' non-state inputs, in order."""
        raise NotImplementedError

    def heads(self, config: "ModelConfig") -> tuple[str, ...]:
        """The inference models' non-state outputs, in order."""
        return self.output_names

    @staticmethod
    def teacher_inputs(config) -> tuple[str, ...]:
        """The training graph's inputs of the step being predicted (sampled first in generation)."""
        return (TEACHER_INPUTS + (("next_part",) if config.has_parts else ())
                + ((PREVIOUS_INPUT,) if config.previous_in_part else ()))

    def sizes(self) -> dict:
        """The family's ModelConfig fields that differ from the dataclass defaults."""
        return {}

    def check(self, config: "ModelConfig") -> None:
        """Refuse options this family does not have."""

    def make_layers(self, config: "ModelConfig") -> dict:
        raise NotImplementedError

    def model_inputs(self, config: "ModelConfig", length, *, teacher: bool):
        raise NotImplementedError

    def inference_inputs(self, config: "ModelConfig", length) -> list:
        raise NotImplementedError

    def as_inputs(self, config: "ModelConfig", tensors: list):
        """The inference models' flat input list -> what ``forward`` takes."""
        raise NotImplementedError

    def forward(self, config: "ModelConfig", layers: dict, inputs, states, *, training_graph: bool,
                one_step: bool = False):
        """Apply the layers; (outputs, new LSTM states). The inference graph skips dropout and keeps
        only the last position; ``one_step`` advances one position from given states."""
        raise NotImplementedError

    def compile(self, model, config: "ModelConfig", learning_rate: float) -> None:
        raise NotImplementedError

    def feed(self, config: "ModelConfig", tokens: np.ndarray, durations: np.ndarray, shifts: np.ndarray,
             conditions: dict | None = None) -> list:
        """(B, T) id arrays -> the inference models' input list. ``conditions``: the family's other
        inputs by name (``position`` and ``meter`` of the step being predicted, the piece's ``low``
        and ``high`` pitch); zeros where omitted."""
        raise NotImplementedError

    def build_length(self, config: "ModelConfig"):
        """The training graph's sequence length (None: any)."""
        return None

    def window_scores(self, model, config: "ModelConfig", tokens: np.ndarray, durations: np.ndarray,
                      shifts: np.ndarray) -> np.ndarray:
        """The training model run once over (1, T) id windows: the next token's scores (1, V)."""
        raise NotImplementedError

    def numpy_inference(self, model, config: "ModelConfig"):
        """Prime and step as NumPy array products on ``model``'s weights (``numpy_step``)."""
        raise NotImplementedError


class PaperPreset(Preset):
    name = "paper"
    has_rhythm = False
    outputs_logits = False
    sequence_to_sequence = False
    output_names = ("token",)
    TAIL = ("batch_norm_0", "dropout_0", "dense", "relu", "batch_norm_1", "dropout_1", "token_logits", "token")

    def input_names(self, config: "ModelConfig") -> tuple[str, ...]:
        return ("token",)

    def sizes(self) -> dict:
        return dict(units=[512, 512, 512], dropout=0.3, recurrent_dropout=0.3, dense_units=256, window=100)

    def check(self, config: "ModelConfig") -> None:
        from ..errors import InvalidParameterError

        if config.pitch_features or config.metric_position or config.range_conditioning or config.has_parts:
            raise InvalidParameterError("pitch features, metric positions, range conditioning and parts are "
                                        "default-preset options; the paper preset has none of them")

    def make_layers(self, config: "ModelConfig") -> dict:
        import keras

        from .layers import lstm_layers

        layers = lstm_layers(config.units, recurrent_dropout=config.recurrent_dropout, every_position=False)
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

    def model_inputs(self, config: "ModelConfig", length, *, teacher: bool):
        import keras

        return keras.Input((length, 1), name="window")

    def inference_inputs(self, config, length) -> list:
        import keras

        return [keras.Input((length, 1))]

    def as_inputs(self, config, tensors: list):
        return tensors[0]

    def forward(self, config, layers, inputs, states, *, training_graph, one_step=False):
        from .layers import run_lstms

        x, new_states = run_lstms(layers, len(config.units), inputs, states, one_step=one_step)
        if one_step:
            x = x[:, 0, :]  # the paper's last LSTM returns only its last output
        for name in self.TAIL:
            if training_graph or not name.startswith("dropout"):
                x = layers[name](x)
        return (x if training_graph else {"token": x}), new_states

    def compile(self, model, config, learning_rate):
        import keras

        model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False))

    def feed(self, config, tokens, durations, shifts, conditions=None) -> list:
        import numpy as np

        return [(tokens / config.vocab_size).astype(np.float32)[..., None]]

    def build_length(self, config: "ModelConfig"):
        return config.window

    def numpy_inference(self, model, config):
        from .numpy_step import PaperNumpyInference

        return PaperNumpyInference(model, config)

    def window_scores(self, model, config, tokens, durations, shifts) -> np.ndarray:
        import numpy as np

        return np.asarray(model.predict(self.feed(config, tokens, durations, shifts)[0], verbose=0))


class SequencePreset(Preset):
    name = "default"
    has_rhythm = True
    outputs_logits = True
    sequence_to_sequence = True
    output_names = HEADS

    def input_names(self, config: "ModelConfig") -> tuple[str, ...]:
        return (HEADS + (METRIC_INPUTS if config.metric_position else ())
                + (RANGE_INPUTS if config.range_conditioning else ()) + ((PART,) if config.has_parts else ()))

    def heads(self, config: "ModelConfig") -> tuple[str, ...]:
        return HEADS + ((PART,) if config.has_parts else ())

    def sizes(self) -> dict:
        return {"metric_position": True}

    def check(self, config: "ModelConfig") -> None:
        from ..errors import InvalidParameterError

        if config.top_line_features and not config.pitch_features:
            raise InvalidParameterError("top-line features extend pitch features; set pitch_features too")
        if config.previous_in_part and not config.has_parts:
            raise InvalidParameterError("previous_in_part conditions on a part's own line; it needs two or more parts")
        if config.part_ranges and len(config.part_ranges) != len(config.parts):
            raise InvalidParameterError(f"{len(config.part_ranges)} part ranges for {len(config.parts)} parts")

    def make_layers(self, config: "ModelConfig") -> dict:
        import keras

        from .layers import lstm_layers

        layers = lstm_layers(config.units, recurrent_dropout=config.recurrent_dropout, every_position=True)
        sizes = {"token": config.vocab_size, "duration": config.n_durations, "shift": config.n_shifts}
        for head, size in sizes.items():
            layers[f"{head}_embedding"] = keras.layers.Embedding(size, config.embed_dim, name=f"{head}_embedding")
            layers[f"{head}_logits"] = keras.layers.Dense(size, name=f"{head}_logits")
        # The next step's duration depends on its token, and its shift on both: these additive terms
        # make the rhythm heads conditional (teacher-forced in training, looked up after sampling).
        layers["duration_given_token"] = keras.layers.Embedding(config.vocab_size, config.n_durations,
                                                                name="duration_given_token")
        layers["shift_given_token"] = keras.layers.Embedding(config.vocab_size, config.n_shifts,
                                                             name="shift_given_token")
        layers["shift_given_duration"] = keras.layers.Embedding(config.n_durations, config.n_shifts,
                                                                name="shift_given_duration")
        layers["duration_sum"] = keras.layers.Add(name="duration_sum")
        layers["shift_sum"] = keras.layers.Add(name="shift_sum")
        if config.pitch_features:
            # Fixed tables of each token's pitches (set by ``set_pitch_tables``): the input adds a projection
            # of the sounding pitches, the output adds a score per pitch summed over each token's pitches,
            # so what is learned of one chord carries over to every chord sharing its notes or key.
            from .layers import pitch_feature_count

            features = pitch_feature_count(config.top_line_features)
            layers["token_pitches"] = keras.layers.Embedding(config.vocab_size, features, trainable=False,
                                                             name="token_pitches")
            layers["pitch_embedding"] = keras.layers.Dense(config.embed_dim, use_bias=False, name="pitch_embedding")
            layers["pitch_query"] = keras.layers.Dense(features, name="pitch_query")
            layers["pitch_scores"] = keras.layers.Dense(config.vocab_size, use_bias=False, trainable=False,
                                                        name="pitch_scores")
            layers["token_sum"] = keras.layers.Add(name="token_sum")
        if config.metric_position:
            from .tokenizer import N_METERS, N_POSITIONS

            layers["position_embedding"] = keras.layers.Embedding(N_POSITIONS, config.embed_dim,
                                                                  name="position_embedding")
            layers["meter_embedding"] = keras.layers.Embedding(N_METERS, config.embed_dim, name="meter_embedding")
        if config.range_conditioning:
            for name in RANGE_INPUTS:
                layers[f"{name}_embedding"] = keras.layers.Embedding(128, config.embed_dim, name=f"{name}_embedding")
        if config.has_parts:
            count = len(config.parts)
            layers["part_embedding"] = keras.layers.Embedding(count, config.embed_dim, name="part_embedding")
            layers["part_logits"] = keras.layers.Dense(count, name="part_logits")
            for table, size in zip(PART_TABLES, (config.vocab_size, config.n_durations, config.n_shifts)):
                layers[table] = keras.layers.Embedding(count, size, name=table)
            layers["token_part_sum"] = keras.layers.Add(name="token_part_sum")
        if config.previous_in_part:
            from .tokenizer import NO_PITCH

            layers[PREVIOUS_TABLE] = keras.layers.Embedding(NO_PITCH + 1, config.vocab_size, name=PREVIOUS_TABLE)
        layers["sum_embeddings"] = keras.layers.Add(name="sum_embeddings")
        layers["dropout"] = keras.layers.Dropout(config.dropout, name="dropout")
        return layers

    def model_inputs(self, config: "ModelConfig", length, *, teacher: bool):
        import keras

        names = self.input_names(config) + (self.teacher_inputs(config) if teacher else ())
        return {h: keras.Input((length,), dtype="int32", name=h) for h in names}

    def inference_inputs(self, config, length) -> list:
        import keras

        return [keras.Input((length,), dtype="int32") for _ in self.input_names(config)]

    def as_inputs(self, config, tensors: list):
        return dict(zip(self.input_names(config), tensors))

    def forward(self, config, layers, inputs, states, *, training_graph, one_step=False):
        from .layers import run_lstms

        embedded = [layers[f"{h}_embedding"](inputs[h]) for h in self.input_names(config)]
        if config.pitch_features:
            embedded.append(layers["pitch_embedding"](layers["token_pitches"](inputs["token"])))
        x = layers["sum_embeddings"](embedded)
        dropout = layers["dropout"] if training_graph else None
        if dropout is not None:
            x = dropout(x)
        x, new_states = run_lstms(layers, len(config.units), x, states, one_step=one_step, between=dropout)
        if not training_graph:
            x = x[:, -1, :]  # the terms of the sampled part, token and duration are added by the sampler
            return {head: self._head_logits(config, layers, head, x) for head in self.heads(config)}, new_states
        given_part = [layers[table](inputs["next_part"]) for table in PART_TABLES] if config.has_parts else []
        given_previous = [layers[PREVIOUS_TABLE](inputs[PREVIOUS_INPUT])] if config.previous_in_part else []
        token = self._head_logits(config, layers, "token", x)
        outputs = {
            "token": layers["token_part_sum"]([token, given_part[0], *given_previous]) if config.has_parts else token,
            "duration": layers["duration_sum"]([layers["duration_logits"](x),
                                                layers["duration_given_token"](inputs["next_token"]),
                                                *given_part[1:2]]),
            "shift": layers["shift_sum"]([layers["shift_logits"](x), layers["shift_given_token"](inputs["next_token"]),
                                          layers["shift_given_duration"](inputs["next_duration"]), *given_part[2:]]),
        }
        if config.has_parts:
            outputs[PART] = layers["part_logits"](x)
        return outputs, new_states

    @staticmethod
    def _head_logits(config, layers: dict, head: str, x):
        logits = layers[f"{head}_logits"](x)
        if head == "token" and config.pitch_features:
            logits = layers["token_sum"]([logits, layers["pitch_scores"](layers["pitch_query"](x))])
        return logits

    def compile(self, model, config, learning_rate):
        import keras

        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                      loss={head: loss for head in self.heads(config)})

    def feed(self, config, tokens, durations, shifts, conditions=None) -> list:
        import numpy as np

        given = {"token": tokens, "duration": durations, "shift": shifts, **(conditions or {})}
        return [np.asarray(given.get(name, np.zeros_like(tokens))).astype("int32") for name in self.input_names(config)]

    def numpy_inference(self, model, config):
        from .numpy_step import SequenceNumpyInference

        return SequenceNumpyInference(model, config)

    def window_scores(self, model, config, tokens, durations, shifts) -> np.ndarray:
        import numpy as np

        zeros = np.zeros_like(tokens)
        inputs = dict(zip(self.input_names(config), self.feed(config, tokens, durations, shifts)))
        teachers = {name: zeros for name in self.teacher_inputs(config)}
        out = model.predict({**inputs, **teachers}, verbose=0)
        return np.asarray(out["token"][:, -1])


PRESETS: dict[str, Preset] = {p.name: p for p in (SequencePreset(), PaperPreset())}


def preset_named(name: str) -> Preset:
    from ..errors import InvalidParameterError

    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidParameterError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
