"""The network of a checkpoint: ``ModelConfig`` (everything needed to rebuild it exactly), the
training model built by the config's preset (``presets.py``), and the inference models.

Every LSTM is built with ``return_state=True`` so the same layers also make the inference models:
``prime`` runs a whole seed once and returns the LSTM states, ``step`` advances one step from
given states. Both are used by ``generate``; the training model ignores the states.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from ..errors import CheckpointError, InvalidParameterError
from ..music.events import Part
from .layers import pitch_feature_table
from .presets import Preset, preset_named
from .tokenizer import N_DURATIONS, N_SHIFTS


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
    metric_position: bool = False  # default preset: sees the position in its bar of the step it predicts
    range_conditioning: bool = False  # default preset: sees the piece's lowest and highest pitch (the seed's)
    parts: list[Part] = field(default_factory=list)  # the parts it plays (two or more: a part head); [] = one line
    previous_in_part: bool = False  # with parts: token scores also given the latest pitch of the part being played
    part_ranges: list[list[int]] = field(default_factory=list)  # each part's [lowest, highest] training pitch, kept when sampling

    def __post_init__(self) -> None:
        self.units = [int(u) for u in self.units]
        self.parts = [p if isinstance(p, Part) else Part.from_json(p) for p in self.parts]
        self.part_ranges = [[int(low), int(high)] for low, high in self.part_ranges]
        self.family.check(self)

    @property
    def has_parts(self) -> bool:
        """Steps of several parts: a part is sampled for every step (a single line has none)."""
        return len(self.parts) > 1

    @property
    def family(self) -> Preset:
        """The model family that builds, feeds and trains this network."""
        return preset_named(self.preset)

    @property
    def has_rhythm(self) -> bool:
        return self.family.has_rhythm

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def for_preset(cls, preset: str, vocab_size: int, **overrides) -> "ModelConfig":
        """The preset's sizes; ``overrides`` change single fields (for experiments and tests)."""
        base = {**preset_named(preset).sizes(), **overrides}
        return cls(preset=preset, vocab_size=vocab_size, **base)


def build_model(config: ModelConfig):
    """The training network for ``config`` (uncompiled)."""
    if config.vocab_size < 3:
        raise InvalidParameterError(f"vocabulary of {config.vocab_size} tokens is too small to train")
    return _build(config)


def compile_model(model, config: ModelConfig, learning_rate: float = 2e-3) -> None:
    """Adam and cross-entropy on every head (sparse targets: one-hot would not fit in memory)."""
    config.family.compile(model, config, learning_rate)


def set_pitch_tables(model, config: ModelConfig, pitch_sets: list[tuple[int, ...]]) -> None:
    """Fill a new ``pitch_features`` model's fixed tables from its vocabulary (weights files keep them)."""
    table = pitch_feature_table(pitch_sets, top_line=config.top_line_features)
    model.get_layer("token_pitches").set_weights([table])
    model.get_layer("pitch_scores").set_weights([table.T])


def rhythm_tables(model) -> dict[str, "object"]:
    """The conditional terms as arrays: duration|token (V, D), shift|token (V, S), shift|duration
    (D, S), and with parts token|part (P, V), duration|part (P, D) and shift|part (P, S)."""
    from .presets import CONDITIONAL_TABLES

    return {layer.name: layer.get_weights()[0] for layer in model.layers if layer.name in CONDITIONAL_TABLES}


def _build(config: ModelConfig):
    import keras

    family = config.family
    inputs = family.model_inputs(config, family.build_length(config), teacher=True)
    outputs, _ = family.forward(config, family.make_layers(config), inputs, None, training_graph=True)
    return keras.Model(inputs, outputs, name=f"genre_lstm_{config.preset}")


def input_names(config: ModelConfig) -> tuple[str, ...]:
    """Order of the non-state inputs of the inference models."""
    return config.family.input_names(config)


def output_names(config: ModelConfig) -> tuple[str, ...]:
    """Order of the non-state outputs of the inference models."""
    return config.family.heads(config)


def inference_models(model, config: ModelConfig):
    """(prime, step) models sharing ``model``'s layers, with flat list inputs and outputs.

    prime: [seed inputs (B, T)...] -> [outputs at the last position..., h0, c0, h1, c1, ...];
    step: [one position (B, 1)..., h0, c0, ...] -> the same. Inputs are ``input_names(config)``
    (the paper preset takes its scaled ids as one (B, T, 1) float input); outputs are
    ``output_names(config)``, logits (default) or probabilities (paper).
    """
    import keras

    family = config.family
    layers = {layer.name: layer for layer in model.layers}
    names = family.heads(config)

    def flat(inputs, states, one_step=False):
        outputs, new_states = family.forward(config, layers, family.as_inputs(config, inputs), states,
                                             training_graph=False, one_step=one_step)
        return [outputs[name] for name in names] + new_states

    seed = family.inference_inputs(config, None)
    prime = keras.Model(seed, flat(seed, None), name="prime")
    one = family.inference_inputs(config, 1)
    states = [keras.Input((units,)) for units in config.units for _ in ("h", "c")]
    step = keras.Model(one + states, flat(one, states, one_step=True), name="step")
    return prime, step


def check_vocab_fits(config: ModelConfig, vocab, where: str) -> None:
    """Refuse a checkpoint whose vocabulary and model disagree (tokens, or rhythm classes of
    another vocabulary version), before any weight is read."""
    if config.vocab_size != len(vocab):
        raise CheckpointError(
            f"{where}: the model expects {config.vocab_size} tokens but the vocabulary has {len(vocab)}"
        )
    if (config.n_durations, config.n_shifts) != (vocab.n_durations, vocab.n_shifts):
        raise CheckpointError(
            f"{where}: the model has {config.n_durations} duration and {config.n_shifts} gap classes but its "
            f"vocabulary (version {vocab.version}) has {vocab.n_durations} and {vocab.n_shifts}")
