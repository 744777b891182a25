"""What a training run is made of, for a shipped genre or a folder of the user's files: the pieces
read, where the checkpoint goes, what it plays by default and what it records about itself. The
command line asks for one, trains it, and writes its model card."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import InvalidParameterError
from ..store.checkpoint import GenerationDefaults
from .corpus import ReadReport, read_collection, read_pieces
from .sizes import MODEL_SIZES, UPLOAD_PARTS
from .train import TrainSettings


@dataclass
class Recipe:
    report: ReadReport
    out: Path
    defaults: GenerationDefaults
    info: dict = field(default_factory=dict)  # recorded in the checkpoint (genre_lstm.json "info")
    genre: object = None  # the shipped Genre, when it is one


def genre_recipe(genre_id: str, settings: TrainSettings, *, out: Path | None = None, workers: int | None = None,
                 keep_epochs: bool = False) -> Recipe:
    """A shipped genre's collection with its own training settings (``keep_epochs``: the caller's
    epochs win over the genre's)."""
    from ..store.genres import get_genre

    genre = get_genre(genre_id)
    for key, value in genre.train.items():
        if key != "epochs" or not keep_epochs:
            setattr(settings, key, value)
    settings.check()
    report = read_collection(genre.collection, workers=workers)
    defaults = GenerationDefaults(name=genre.id, description=genre.name, tempo_bpm=genre.tempo_bpm,
                                  program=genre.program, temperature=genre.temperature,
                                  key_bias=genre.key_bias, register_margin=genre.register_margin,
                                  grid_bias=genre.grid_bias)
    info = {"genre": genre.id, "source": genre.source, "collection": genre.collection}
    return Recipe(report, Path(out or genre.local_dir()), defaults, info, genre)


def files_recipe(data: Path, name: str, settings: TrainSettings, *, out: Path | None = None,
                 base: str | None = None, size: str | None = None, workers: int | None = None,
                 parts: int | None = None) -> Recipe:
    """A folder or zip of the user's MIDI, MusicXML or ABC files; optionally fine-tuned from a shipped
    genre; learning at most ``parts`` of their parts by role (default ``UPLOAD_PARTS``, 1: one line)."""
    from ..store.genres import get_genre
    from .uploads import gather_music_files

    if not name:
        raise InvalidParameterError("--data needs --name (the name of your genre)")
    if not (data.is_dir() or data.is_file()):
        raise InvalidParameterError(f"{data}: no such folder or zip")
    uploads = sorted(p for p in data.rglob("*") if p.is_file()) if data.is_dir() else [data]
    gathered = gather_music_files(uploads, tempfile.mkdtemp(prefix="genre-lstm-data-"))
    report = read_pieces(gathered.files, workers=workers, root=gathered.files[0].parent if gathered.files else None)
    report.skipped[:0] = gathered.skipped
    info = {"genre": name, "source": f"{len(gathered.files)} files from {data.name}"}
    if base:
        settings.base = str(get_genre(base).local_dir())
        info["fine_tuned_from"] = base
    if size:
        settings.model = MODEL_SIZES[size]
    settings.max_parts = UPLOAD_PARTS if parts is None else parts
    settings.check()
    return Recipe(report, Path(out or Path("checkpoints") / name), GenerationDefaults(name=name, description=name), info)


def train_recipe(recipe: Recipe, settings: TrainSettings, *, trainer: Callable | None = None):
    """Train (``trainer``: train_checkpoint, or the data-parallel one) and write the model card."""
    from ..model.backend import hardware_description
    from ..store.card import write_genre_card, write_model_card
    from .train import train_checkpoint

    info = {**recipe.info, "pieces": len(recipe.report.pieces), "hardware": hardware_description()}
    result = (trainer or train_checkpoint)(recipe.report.pieces, recipe.out, settings=settings,
                                           defaults=recipe.defaults, info=info)
    if recipe.genre:
        write_genre_card(recipe.genre, result.folder)
    else:
        write_model_card(result.folder, title=f"genre-lstm: {recipe.defaults.description}",
                         summary=f"An LSTM that continues music in the style of: {info['source']}.",
                         parameters=result.parameters, hardware=info["hardware"])
    return result
