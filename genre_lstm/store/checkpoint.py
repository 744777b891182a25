"""Checkpoint folders laid out like a Hugging Face hub model repo, and loading them back.

A folder holds Keras's own files (config.json, metadata.json, model.weights.h5, written by
``keras.saving.save_model(..., zipped=False)``), and ours beside them: genre_lstm.json (the
``ModelConfig`` and how it was trained), vocabulary.json, generation.json (defaults), seeds.json
(held-out seed windows; with range conditioning, the registers of the training pieces) and
README.md (the model card). Loading rebuilds the network from genre_lstm.json, checks it against
the vocabulary, and only then reads the weights; nothing is ever unpickled or deserialised as code.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, GenreLSTMError, MusicReadError
from ..model.network import ModelConfig, build_model, check_vocab_fits
from ..model.tokenizer import Vocabulary
from ..music.events import Music, Part, Step, music_onto_parts, rows_to_steps
from .layout import (
    CARD_FILE,
    DEFAULTS_FILE,
    FORMAT_VERSION,
    OUR_CONFIG,
    REQUIRED_FILES,
    SEEDS_FILE,
    VOCAB_FILE,
    WEIGHTS_FILE,
    read_json,
    read_optional,
    registers_in,
    seeds_in,
    write_json,
)


@dataclass
class GenerationDefaults:
    """What a checkpoint plays by default; every field can be overridden per request."""

    name: str = "custom"
    description: str = ""
    tempo_bpm: float = 100.0
    program: int = 0  # General MIDI program, 0 = Acoustic Grand Piano
    temperature: float = 1.0
    top_k: int = 0
    rhythm: str = "learned"
    key_bias: float = 0.0  # see request.FIELD["key_bias"]
    register_margin: int = 0  # see request.FIELD["register_margin"]
    grid_bias: float = 0.0  # see request.FIELD["grid_bias"]

    @classmethod
    def from_json(cls, data: dict) -> "GenerationDefaults":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Checkpoint:
    """A loaded checkpoint: the network, its vocabulary, defaults, held-out seed windows and (range
    conditioning) the registers of its training pieces."""

    folder: Path
    config: ModelConfig
    vocab: Vocabulary
    defaults: GenerationDefaults
    model: object
    seeds: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    registers: list[tuple[int, int, int]] = field(default_factory=list)  # training pieces' (low, high, count)
    _runner: object = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def runner(self):
        """The compiled prime/step pair, built on first use and shared by all requests."""
        with self._lock:
            if self._runner is None:
                from ..model.generate import StepRunner

                self._runner = StepRunner(self.model, self.config)
            return self._runner

    def drawn_register(self, random_seed: int) -> tuple[int, int] | None:
        """Without a seed, the register (lowest and highest pitch) a model with range conditioning
        is asked to keep: a training piece's, drawn by ``random_seed`` in proportion to how many
        pieces have it, so a piece starts where real ones do (None when the checkpoint ships none)."""
        if not self.registers:
            return None
        counts = np.array([count for _, _, count in self.registers], np.float64)
        drawn = np.random.default_rng((random_seed, 1)).choice(len(counts), p=counts / counts.sum())
        low, high, _ = self.registers[drawn]
        return low, high

    def seed_steps(self, index: int) -> list[Step]:
        """Held-out seed window ``index`` (modulo the number shipped) as steps."""
        if not self.seeds:
            raise CheckpointError(f"{self.folder}: this checkpoint ships no seed windows; upload a seed")
        seed = self.seeds[index % len(self.seeds)]
        return rows_to_steps(seed["steps"], seed.get("positions"), seed.get("step_parts"))

    @property
    def parts(self) -> tuple[Part, ...]:
        """The parts it plays: its model's, or one line playing its default program."""
        return tuple(self.config.parts) or (Part(self.defaults.name, self.defaults.program),)

    def seed_in_parts(self, music: Music) -> tuple[list[Step], str | None]:
        """A seed's steps in this checkpoint's parts (its own parts mapped by name, then role, then
        in order: ``events.map_parts``), and a line naming the parts it dropped (None: none)."""
        mapped, dropped = music_onto_parts(music, self.parts)
        if not mapped.steps:
            raise MusicReadError(f"the seed has no notes for the parts {self.defaults.name} plays "
                                 f"({', '.join(p.name for p in self.parts)}): it has only "
                                 f"{', '.join(p.name for p in music.parts)}")
        if not dropped:
            return mapped.steps, None
        names = ", ".join(f"{part.name} ({part.role})" for part in dropped)
        return mapped.steps, f"the seed's {names} dropped: {self.defaults.name} plays {', '.join(p.name for p in self.parts)}"

    @property
    def parameter_count(self) -> int:
        return int(self.model.count_params())


def save_checkpoint(folder: str | Path, model, config: ModelConfig, vocab: Vocabulary, *,
                    defaults: GenerationDefaults | None = None, seeds: list[dict] | None = None,
                    registers: list[list[int]] | None = None, info: dict | None = None, card: str | None = None,
                    float16: bool = True) -> Path:
    """Write a complete checkpoint folder (no optimizer state; weights stored as float16 by default)."""
    import keras

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    check_vocab_fits(config, vocab, str(folder))
    bare = build_model(config)  # uncompiled: Keras would save the optimizer's variables too
    bare.set_weights(model.get_weights())
    _remove_empty_assets(folder)  # Keras refuses to save over the empty assets folder it left last time
    keras.saving.save_model(bare, folder, zipped=False)
    _remove_empty_assets(folder)
    if float16:
        store_weights_float16(folder / WEIGHTS_FILE)
    write_json(folder / OUR_CONFIG, {"format": FORMAT_VERSION, "model": config.to_json(), "info": info or {}})
    vocab.save(folder / VOCAB_FILE)
    write_json(folder / DEFAULTS_FILE, asdict(defaults or GenerationDefaults()))
    write_json(folder / SEEDS_FILE, {"seeds": seeds or [], **({"registers": registers} if registers else {})},
               compact=True)
    if card is not None:
        (folder / CARD_FILE).write_text(card, encoding="utf-8")
    return folder


def load_checkpoint(folder: str | Path) -> Checkpoint:
    """Rebuild the exact network and vocabulary from a checkpoint folder alone."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such checkpoint folder")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(f"{folder}: incomplete checkpoint, missing {', '.join(missing)}")
    ours = read_json(folder / OUR_CONFIG)
    if ours.get("format") != FORMAT_VERSION or not isinstance(ours.get("model"), dict):
        raise CheckpointError(f"{folder / OUR_CONFIG}: not a genre-lstm checkpoint config (format {FORMAT_VERSION})")
    try:
        config = ModelConfig.from_json(ours["model"])
    except (TypeError, ValueError, GenreLSTMError) as error:
        raise CheckpointError(f"{folder / OUR_CONFIG}: invalid model config ({error})") from error
    try:
        vocab = Vocabulary.load(folder / VOCAB_FILE)
    except GenreLSTMError as error:
        raise CheckpointError(f"{folder}: {error}") from error
    check_vocab_fits(config, vocab, str(folder))
    model = build_model(config)
    try:
        model.load_weights(folder / WEIGHTS_FILE)
    except Exception as error:  # h5py and Keras raise many types for damaged or mismatched files
        raise CheckpointError(f"{folder / WEIGHTS_FILE}: weights do not load ({_first_line(error)})") from error
    defaults = GenerationDefaults()
    if (folder / DEFAULTS_FILE).is_file():
        defaults = GenerationDefaults.from_json(read_json(folder / DEFAULTS_FILE))
    stored = read_optional(folder, SEEDS_FILE)
    return Checkpoint(folder, config, vocab, defaults, model, seeds_in(stored), ours.get("info", {}),
                      registers_in(stored))


def _remove_empty_assets(folder: Path) -> None:
    """Keras writes an ``assets`` folder (empty for our models, and no part of the layout)."""
    assets = folder / "assets"
    if assets.is_dir() and not any(assets.iterdir()):
        assets.rmdir()


def store_weights_float16(path: Path) -> None:
    """Rewrite a Keras weights file with float16 arrays: half the size, float32 again on load."""
    import h5py
    import numpy as np

    scratch = path.with_suffix(".tmp.h5")

    def copy(source, target):
        target.attrs.update(dict(source.attrs))
        for name, item in source.items():
            if isinstance(item, h5py.Group):
                copy(item, target.create_group(name))
            else:
                data = item[()]
                if isinstance(data, np.ndarray) and data.dtype == np.float32:
                    data = data.astype(np.float16)
                target.create_dataset(name, data=data).attrs.update(dict(item.attrs))

    with h5py.File(path, "r") as source, h5py.File(scratch, "w") as target:
        copy(source, target)
    scratch.replace(path)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]
