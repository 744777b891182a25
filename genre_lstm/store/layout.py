"""The checkpoint folder's layout: every file name, and light readers that need no Keras.

A checkpoint folder is laid out like a Hugging Face hub model repo. Keras writes config.json,
metadata.json and the weights; ours sit beside them. This module is the only one that spells the
names out (as huggingface_hub's mixin owns its layout); everything else asks it.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import CheckpointError

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.weights.h5"
OUR_CONFIG = "genre_lstm.json"  # the ModelConfig and how the model was trained (its own record)
VOCAB_FILE = "vocabulary.json"
DEFAULTS_FILE = "generation.json"  # what it plays by default
SEEDS_FILE = "seeds.json"  # held-out seed windows, and the registers of the training pieces
EVALUATION_FILE = "evaluation.json"  # held-out figures, written by `genre-lstm evaluate`
CARD_FILE = "README.md"
KERAS_FILES = ("config.json", "metadata.json", WEIGHTS_FILE)
REQUIRED_FILES = (WEIGHTS_FILE, OUR_CONFIG, VOCAB_FILE)
HUB_PATTERNS = ["*.json", "*.h5", CARD_FILE]  # what is uploaded and downloaded: never code, never pickles
TRAINING_FOLDER = ".training"  # resumable training state, never published; inside it:
TRAINING_LAST = "last.keras"  # the model with its optimizer after the latest epoch
TRAINING_BEST = "best.weights.h5"  # the best weights on held-out loss so far


def is_complete(folder: Path) -> bool:
    """Every required file is there (a folder still being trained into is not complete)."""
    return all((Path(folder) / name).is_file() for name in REQUIRED_FILES)


def read_json(path: Path) -> dict:
    """A JSON object from one of the layout's files, or a CheckpointError naming the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path}: unreadable JSON ({error})") from error
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return data


def write_json(path: Path, data, *, compact: bool = False) -> None:
    """``data`` as JSON: indented for people to read, or ``compact`` for bulk data (seed windows)."""
    layout = {"separators": (",", ":")} if compact else {"indent": 2}
    Path(path).write_text(json.dumps(data, sort_keys=True, **layout), encoding="utf-8")


def read_optional(folder: Path, name: str) -> dict:
    """One of the optional files as a dict ({} when it is missing or unreadable)."""
    try:
        return read_json(Path(folder) / name)
    except CheckpointError:
        return {}


def read_info(folder: Path) -> dict:
    """How the model was trained: source, pieces, training figures (the "info" of genre_lstm.json)."""
    info = read_optional(folder, OUR_CONFIG).get("info", {})
    return info if isinstance(info, dict) else {}


def read_seeds(folder: Path) -> list[dict]:
    """The held-out seed windows a checkpoint ships ([] when it ships none)."""
    return seeds_in(read_optional(folder, SEEDS_FILE))


def seeds_in(stored: dict) -> list[dict]:
    """The seed windows of a read seeds.json."""
    seeds = stored.get("seeds", [])
    return seeds if isinstance(seeds, list) else []


def registers_in(stored: dict) -> list[tuple[int, int, int]]:
    """The registers of the training pieces in a read seeds.json, (lowest pitch, highest pitch,
    pieces), that a model with range conditioning starts from without a seed ([] when none)."""
    rows = stored.get("registers", [])
    if not isinstance(rows, list):
        return []
    return [tuple(row) for row in rows
            if isinstance(row, list) and len(row) == 3 and all(isinstance(x, int) and x >= 0 for x in row)]


def read_defaults(folder: Path) -> dict:
    """What the checkpoint plays by default (generation.json), as stored."""
    return read_optional(folder, DEFAULTS_FILE)
