"""Training either preset on a list of pieces, resumable, with early stopping on held-out loss.

``default`` trains sequence-to-sequence: every position of a long window is a target, so each
token is learned once per epoch. ``paper`` trains the reference paper's way: a 100-id window (ids
divided by the vocabulary size) predicting the 101st, one target per window. Training state is
saved every epoch under ``<out>/.training`` (model with optimizer state as a .keras file, best
weights, JSON state) so a run that is cut off continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import CorpusError, InvalidParameterError
from ..model.network import ModelConfig, build_model, compile_model, set_pitch_tables
from ..model.presets import METRIC_INPUTS, PART, PREVIOUS_INPUT, RANGE_INPUTS, preset_named
from ..model.tokenizer import END_ID, EncodedPiece, Vocabulary, ids_to_previous_in_next_part, transpose_steps
from ..music.events import (
    SOLO,
    Music,
    Part,
    drum_parts,
    steps_to_part_indices,
    steps_to_positions,
    steps_to_register,
    steps_to_rows,
)
from ..music.midi_io import MAX_PARTS, music_to_single_line
from ..store.checkpoint import GenerationDefaults, load_checkpoint, save_checkpoint
from ..store.layout import TRAINING_BEST, TRAINING_FOLDER, TRAINING_LAST, VOCAB_FILE
from .corpus import Piece, Split, ensemble_of, pieces_onto_parts, pieces_to_part_ranges, split_pieces
from .distribute import agreed, batch_count, current_layout, local_rows

SEED_WINDOW = 100
SEEDS_SHIPPED = 24
MIN_TRAIN_STEPS = 32


@dataclass
class TrainSettings:
    """How to train; everything but ``epochs``, ``max_minutes`` and ``verbose`` must match to resume."""

    preset: str = "default"
    epochs: int = 40
    batch_size: int = 32  # the global batch: split across devices when distributed (distribute.py)
    learning_rate: float = 2e-3
    patience: int = 3
    random_seed: int = 0
    max_minutes: float | None = None
    max_vocab: int = 1500
    min_count: int = 2
    transpose: list[int] = field(default_factory=lambda: [0])  # semitone shifts of the training pieces
    base: str | None = None  # fine-tune: start from this checkpoint folder (its vocabulary, network and parts)
    max_parts: int = 1  # parts learned from the pieces' own (``ensemble_of``); 1: one line, every part merged
    parts: list[dict] = field(default_factory=list)  # the parts to learn, named (Part JSON); else from max_parts
    model: dict = field(default_factory=dict)  # ModelConfig field overrides
    verbose: int = 1

    def check(self) -> None:
        preset_named(self.preset)
        if not 1 <= self.epochs <= 1000:
            raise InvalidParameterError(f"epochs must be 1 to 1000, not {self.epochs}")
        if not 1 <= self.batch_size <= 4096:
            raise InvalidParameterError(f"batch size must be 1 to 4096, not {self.batch_size}")
        if not self.transpose or any(not -12 <= t <= 12 for t in self.transpose):
            raise InvalidParameterError(f"transpositions must be -12 to 12 semitones, not {self.transpose}")
        if not 1 <= self.max_parts <= MAX_PARTS:
            raise InvalidParameterError(f"parts must be 1 to {MAX_PARTS}, not {self.max_parts}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise InvalidParameterError(f"time budget must be positive, not {self.max_minutes} minutes")


@dataclass
class EpochReport:
    """Sent to ``on_epoch`` after every epoch (the app draws its loss curve from these)."""

    epoch: int
    epochs: int
    loss: float
    val_loss: float
    best_val_loss: float
    seconds: float


@dataclass
class TrainResult:
    folder: Path
    config: ModelConfig
    vocab_size: int
    epochs_run: int
    best_epoch: int
    best_val_loss: float
    seconds: float
    history: list[dict]
    split_sizes: dict
    parameters: int


def transposed(pieces: list[Piece], shifts: list[int]) -> list[Piece]:
    """Each piece once per semitone shift (augmentation: chords are learned in every key; drums stay)."""
    if list(shifts) == [0]:
        return pieces
    return [Piece(f"{p.id}@{t:+d}", transpose_steps(p.steps, t, unmoved=drum_parts(p.parts)), p.parts)
            for t in shifts for p in pieces]


def pieces_for_training(pieces: list[Piece], settings: TrainSettings, base=None) -> tuple[list[Piece], tuple[Part, ...]]:
    """The pieces as the model will play them, and its parts: the base checkpoint's, the settings'
    named parts, or those of the pieces (``ensemble_of``); one line when there is one part."""
    if base is not None:
        ensemble = tuple(base.config.parts) or SOLO
    elif settings.parts:
        ensemble = tuple(Part.from_json(part) for part in settings.parts)
    else:
        ensemble = ensemble_of(pieces, settings.max_parts)
    if len(ensemble) == 1:
        return [Piece(p.id, steps, SOLO) for p in pieces
                if (steps := music_to_single_line(Music(p.steps, p.parts)))], SOLO
    return pieces_onto_parts(pieces, ensemble)[0], ensemble


def pieces_to_stream(pieces: list[Piece], vocab: Vocabulary) -> EncodedPiece:
    """All pieces in one stream, each preceded by the end-of-piece token (as generation sees seeds).

    Chords outside the vocabulary become the rare-chord token, so the model learns how likely
    "some rare chord" is and every held-out pitch set gets a finite probability.
    """
    parts = [vocab.encode(piece.steps, exact=True) for piece in pieces if piece.steps]
    zero = np.zeros(1, np.int32)

    def joined(name: str, separator: int | None = 0) -> np.ndarray:
        """One array of the stream; an end token carries ``separator`` (None: the next piece's value)."""
        return np.concatenate([x for p in parts for x in (
            getattr(p, name)[:1] if separator is None else zero + separator, getattr(p, name))] + [zero + (separator or 0)])

    tokens, part_ids = joined("tokens", END_ID), joined("parts")
    previous = ids_to_previous_in_next_part(tokens, part_ids, vocab.top_pitches(), int(part_ids.max(initial=0)) + 1)
    return EncodedPiece(tokens, joined("durations"), joined("shifts"), joined("positions"), joined("meters"),
                        joined("lows", None), joined("highs", None), part_ids, previous)


def _keras_dataset_class():
    import keras

    class SequenceWindows(keras.utils.PyDataset):
        """Sequence-to-sequence batches: windows of the stream, targets shifted by one.

        Each epoch starts the windows at a new random offset, so window edges move.
        """

        def __init__(self, stream: EncodedPiece, window: int, batch_size: int, *, shuffle: bool, seed: int,
                     config: ModelConfig | None = None):
            super().__init__()
            self.arrays = (stream.tokens, stream.durations, stream.shifts)
            self.metric = (stream.positions, stream.meters) if config and config.metric_position else ()
            self.register = (stream.lows, stream.highs) if config and config.range_conditioning else ()
            self.parts = stream.parts if config and config.has_parts else None
            self.previous = stream.previous if config and config.previous_in_part else None
            self.window = min(window, len(stream) - 1)
            self.count = max(1, (len(stream) - self.window) // self.window)
            self.batch_size, self.shuffle = batch_size, shuffle
            self.rng = np.random.default_rng(seed)
            self.offset, self.order = 0, np.arange(self.count)
            self.layout = current_layout()
            self.on_epoch_end()

        def __len__(self):
            return batch_count(self.count, self.batch_size, self.layout)

        def __getitem__(self, index):
            chosen = local_rows(self.order[index * self.batch_size: (index + 1) * self.batch_size], self.layout)
            starts = self.offset + chosen * self.window
            grid = starts[:, None] + np.arange(self.window)[None, :]
            names = ("token", "duration", "shift")
            x = {n: a[grid] for n, a in zip(names, self.arrays)}
            y = {n: a[grid + 1] for n, a in zip(names, self.arrays)}
            x["next_token"], x["next_duration"] = y["token"], y["duration"]  # teacher forcing of the rhythm heads
            for name, array in zip(METRIC_INPUTS, self.metric):
                x[name] = array[grid + 1]  # where the predicted step falls: known before it is sampled
            for name, array in zip(RANGE_INPUTS, self.register):
                x[name] = array[grid]  # an end token carries the range of the piece it opens
            if self.parts is not None:
                x[PART], x["next_part"], y[PART] = self.parts[grid], self.parts[grid + 1], self.parts[grid + 1]
            if self.previous is not None:
                x[PREVIOUS_INPUT] = self.previous[grid]
            return x, y

        def on_epoch_end(self):
            if self.shuffle:
                self.offset = int(self.rng.integers(0, max(1, len(self.arrays[0]) - self.count * self.window)))
                self.order = self.rng.permutation(self.count)

    class PaperWindows(keras.utils.PyDataset):
        """The paper's batches: 100 ids scaled by the vocabulary size -> the 101st id."""

        def __init__(self, stream: EncodedPiece, window: int, vocab_size: int, batch_size: int, *,
                     shuffle: bool, seed: int):
            super().__init__()
            short = max(0, window + 1 - len(stream.tokens))  # a tiny stream is padded with end tokens
            self.tokens = np.concatenate([np.full(short, END_ID, np.int32), stream.tokens])
            self.window, self.vocab_size = window, vocab_size
            self.count = len(self.tokens) - window
            self.batch_size, self.shuffle = batch_size, shuffle
            self.rng = np.random.default_rng(seed)
            self.order = np.arange(self.count)
            self.layout = current_layout()
            self.on_epoch_end()

        def __len__(self):
            return batch_count(self.count, self.batch_size, self.layout)

        def __getitem__(self, index):
            starts = local_rows(self.order[index * self.batch_size: (index + 1) * self.batch_size], self.layout)
            grid = starts[:, None] + np.arange(self.window)[None, :]
            x = (self.tokens[grid] / self.vocab_size).astype(np.float32)[..., None]
            return x, self.tokens[starts + self.window]

        def on_epoch_end(self):
            if self.shuffle:
                self.order = self.rng.permutation(self.count)

    return SequenceWindows, PaperWindows


def config_for_training(settings: TrainSettings, vocab_size: int, ensemble: tuple[Part, ...],
                        train: list[Piece]) -> ModelConfig:
    """The network a run trains: the preset's, changed by ``settings.model``; with two or more parts,
    a part head whose token scores also see each part's latest pitch, and each part's range in
    ``train`` kept when sampling (a cello never sampled below the lowest note cellos played)."""
    ranges = [known or (0, 127) for known in pieces_to_part_ranges(train, len(ensemble))]  # a silent part: any pitch
    parted = {"parts": list(ensemble), "previous_in_part": True, "part_ranges": ranges} if len(ensemble) > 1 else {}
    return ModelConfig.for_preset(settings.preset, vocab_size, **{**parted, **settings.model})


def make_datasets(train: EncodedPiece, valid: EncodedPiece, config: ModelConfig, settings: TrainSettings):
    sequence_windows, paper_windows = _keras_dataset_class()
    if not config.family.sequence_to_sequence:
        return (paper_windows(train, config.window, config.vocab_size, settings.batch_size,
                              shuffle=True, seed=settings.random_seed),
                paper_windows(valid, config.window, config.vocab_size, settings.batch_size,
                              shuffle=False, seed=0))
    return (sequence_windows(train, config.window, settings.batch_size, shuffle=True, seed=settings.random_seed,
                             config=config),
            sequence_windows(valid, config.window, settings.batch_size, shuffle=False, seed=0, config=config))


def seed_windows(pieces: list[Piece], count: int = SEEDS_SHIPPED, length: int = SEED_WINDOW) -> list[dict]:
    """Held-out windows to ship as seeds: the openings of pieces that fill a whole window, in an
    order fixed by a hash of their ids (so the seeds are a sample of the genre: the longest pieces
    alone were all reels and hornpipes for Ryan's collection, never a jig), then the shorter pieces,
    longest first, then later windows when there are fewer pieces than ``count`` (a few long
    quartets, say)."""
    ranked = sorted(pieces, key=lambda p: (len(p.steps) < length, "" if len(p.steps) < length else _seed_rank(p),
                                           -len(p.steps), p.id))
    starts = [(p, at) for at in range(0, max((len(p.steps) for p in ranked), default=0), length)
              for p in ranked if at == 0 or at + length <= len(p.steps)]
    return [{"piece": p.id, "start": at, "steps": steps_to_rows(p.steps[at:at + length]),
             "positions": steps_to_positions(p.steps[at:at + length]),
             "step_parts": steps_to_part_indices(p.steps[at:at + length])} for p, at in starts[:count]]


def piece_registers(pieces: list[Piece]) -> list[list[int]]:
    """[lowest pitch, highest pitch, pieces] of every register among ``pieces`` (as the network sees a
    piece's), for a model with range conditioning to start without a seed where real pieces do."""
    counts = Counter(steps_to_register(p.steps) for p in pieces if any(s.pitches for s in p.steps))
    return [[low, high, count] for (low, high), count in sorted(counts.items())]


def distinct_pieces(pieces: list[Piece]) -> list[Piece]:
    """The pieces without repeats of the same music (the first of each kept), so a file uploaded
    twice can never sit on both sides of the split."""
    seen: set[tuple] = set()
    kept = []
    for piece in pieces:
        key = tuple(piece.steps)
        if key not in seen:
            seen.add(key)
            kept.append(piece)
    return kept


def split_for_training(pieces: list[Piece]) -> Split:
    """Distinct pieces split by piece, or a CorpusError when there is too little to train on: the one
    check that both the app's form (before a job is queued) and training itself make."""
    split = split_pieces(distinct_pieces(pieces))
    steps = sum(len(p.steps) for p in split.train)
    if steps < MIN_TRAIN_STEPS or len(split.train) < 1 or not split.valid or not split.test:
        count = len(split.train) + len(split.valid) + len(split.test)
        raise CorpusError(f"too little music to train: {_count(count, 'distinct piece')} with "
                          f"{_count(steps, 'training step')}; upload at least 3 different pieces and "
                          f"{MIN_TRAIN_STEPS} steps of music")
    return split


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _seed_rank(piece: Piece) -> str:
    """A piece's place in the seed order: a hash of its id, stable as a collection grows."""
    return hashlib.sha256(f"seed-windows {piece.id}".encode("utf-8")).hexdigest()


def train_checkpoint(pieces: list[Piece], out_dir: str | Path, *, settings: TrainSettings | None = None,
                     defaults: GenerationDefaults | None = None, info: dict | None = None,
                     on_epoch: Callable[[EpochReport], None] | None = None,
                     stop: threading.Event | None = None) -> TrainResult:
    """Train on ``pieces`` (split by piece) and write a checkpoint folder to ``out_dir``."""
    import keras

    settings = settings or TrainSettings()
    settings.check()
    out_dir = Path(out_dir)
    base = load_checkpoint(settings.base) if settings.base else None
    pieces, ensemble = pieces_for_training(pieces, settings, base)
    split = split_for_training(pieces)
    work = out_dir / TRAINING_FOLDER
    fingerprint = _fingerprint(split, settings)
    state = _read_state(work, fingerprint)
    keras.utils.set_random_seed(settings.random_seed)
    if state:
        vocab = Vocabulary.load(work / VOCAB_FILE)
    else:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        vocab = base.vocab if base else Vocabulary.build(
            (p.steps for p in transposed(split.train, settings.transpose)),
            max_size=settings.max_vocab, min_count=settings.min_count)
        vocab.save(work / VOCAB_FILE)
    config = base.config if base else config_for_training(settings, len(vocab), ensemble, split.train)
    train_data, valid_data = make_datasets(pieces_to_stream(transposed(split.train, settings.transpose), vocab),
                                           pieces_to_stream(split.valid, vocab), config, settings)
    if state:
        model = keras.saving.load_model(work / TRAINING_LAST, safe_mode=True)
    else:
        model = build_model(config)
        if base:
            model.set_weights(base.model.get_weights())
        elif config.pitch_features:
            set_pitch_tables(model, config, [vocab.pitches_of(i) for i in range(len(vocab))])
        compile_model(model, config, settings.learning_rate)
        state = {"fingerprint": fingerprint, "epoch": 0, "best_val_loss": None, "best_epoch": 0,
                 "wait": 0, "seconds": 0.0, "history": []}
    tracker = _epoch_tracker(work, state, settings, on_epoch, stop)
    if state["epoch"] < settings.epochs and not state.get("stopped"):
        model.fit(train_data, validation_data=valid_data, epochs=settings.epochs,
                  initial_epoch=state["epoch"], callbacks=[tracker], verbose=settings.verbose)
    model.load_weights(work / TRAINING_BEST)
    result = TrainResult(out_dir, config, len(vocab), state["epoch"], state["best_epoch"],
                         float(state["best_val_loss"]), state["seconds"], state["history"],
                         {"train": len(split.train), "valid": len(split.valid), "test": len(split.test)},
                         int(model.count_params()))
    full_info = {**(info or {}), "training": {
        "preset": settings.preset, "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
        "best_val_loss": result.best_val_loss, "seconds": round(result.seconds, 1),
        "split": result.split_sizes, "steps": {k: sum(len(p.steps) for p in getattr(split, k))
                                                for k in ("train", "valid", "test")},
        "held_out_pieces": {"valid": [p.id for p in split.valid], "test": [p.id for p in split.test]},
        "settings": asdict(settings) | {"verbose": None},
    }}
    registers = piece_registers(transposed(split.train, settings.transpose)) if config.range_conditioning else None
    save_checkpoint(out_dir, model, config, vocab, defaults=defaults, seeds=seed_windows(split.test or split.valid),
                    registers=registers, info=full_info)
    shutil.rmtree(work, ignore_errors=True)
    return result


def _fingerprint(split: Split, settings: TrainSettings) -> str:
    fixed = asdict(settings)
    for key in ("epochs", "max_minutes", "verbose"):
        fixed.pop(key)
    text = json.dumps([fixed, [p.id for p in split.train], [p.id for p in split.valid]], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_state(work: Path, fingerprint: str) -> dict | None:
    try:
        state = json.loads((work / "state.json").read_text())
    except (OSError, ValueError):
        return None
    needed = (TRAINING_LAST, TRAINING_BEST, VOCAB_FILE)
    if state.get("fingerprint") != fingerprint or not all((work / n).is_file() for n in needed):
        return None
    return state


def _epoch_tracker(work: Path, state: dict, settings: TrainSettings, on_epoch, stop):
    """A Keras callback that saves resumable state each epoch and applies early stopping,
    the time budget and a stop request (defined here so importing this module stays light)."""
    import keras

    class EpochTracker(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.started = time.monotonic()
            self.seconds_before = state["seconds"]

        def on_train_batch_end(self, batch, logs=None):
            over = settings.max_minutes is not None and (
                self.seconds_before + time.monotonic() - self.started > 60 * settings.max_minutes)
            if agreed(over or (stop is not None and stop.is_set())):
                self.model.stop_training = True  # the epoch ends here; validation and saving still run

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            val_loss, loss = float(logs.get("val_loss", np.nan)), float(logs.get("loss", np.nan))
            state["epoch"] = epoch + 1
            state["seconds"] = self.seconds_before + time.monotonic() - self.started
            state["history"].append({"epoch": epoch + 1, "loss": loss, "val_loss": val_loss,
                                     **{k: float(v) for k, v in logs.items() if k not in ("loss", "val_loss")}})
            if state["best_val_loss"] is None or val_loss < state["best_val_loss"]:
                state.update(best_val_loss=val_loss, best_epoch=epoch + 1, wait=0)
                self.model.save_weights(work / TRAINING_BEST)
            else:
                state["wait"] += 1
            out_of_time = settings.max_minutes is not None and state["seconds"] > 60 * settings.max_minutes
            stopped = stop is not None and stop.is_set()
            if agreed(state["wait"] >= settings.patience or out_of_time or stopped):
                state["stopped"] = True
                self.model.stop_training = True
            self.model.save(work / TRAINING_LAST)
            (work / "state.json").write_text(json.dumps(state))
            if on_epoch:
                on_epoch(EpochReport(epoch + 1, settings.epochs, loss, val_loss, state["best_val_loss"],
                                     state["seconds"]))

    return EpochTracker()
