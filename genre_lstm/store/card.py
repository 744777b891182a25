"""Model cards: README.md with YAML front matter, as the Hugging Face hub expects.

The card is written from what the checkpoint folder itself records (genre_lstm.json and the
weights file), so it can be rewritten at any time, e.g. when evaluation adds held-out figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .layout import (
    CARD_FILE,
    DEFAULTS_FILE,
    EVALUATION_FILE,
    OUR_CONFIG,
    VOCAB_FILE,
    WEIGHTS_FILE,
    read_optional,
)


@dataclass(frozen=True)
class Licensing:
    """Under what terms a checkpoint is shared: its licence as the hub spells it, the terms of the
    music it learned from (in words), and the hub's name for that data."""

    licence: str = "mit"
    music: str = ""  # empty: not known (a user's own files)
    datasets: tuple[str, ...] = ("music21-corpus",)


def write_model_card(folder: str | Path, *, title: str, summary: str, parameters: int,
                     hardware: str, figures: dict | None = None, representation: str = "",
                     licensing: Licensing = Licensing()) -> Path:
    folder = Path(folder)
    ours = json.loads((folder / OUR_CONFIG).read_text())
    vocab_size = len(json.loads((folder / VOCAB_FILE).read_text())["tokens"])
    info = {**ours.get("info", {}), "representation": representation,
            "sampling": read_optional(folder, DEFAULTS_FILE)}
    card = model_card(title=title, summary=summary, info=info, config=ours["model"],
                      vocab_size=vocab_size, parameters=parameters,
                      weights_bytes=(folder / WEIGHTS_FILE).stat().st_size, hardware=hardware, figures=figures,
                      licensing=licensing)
    path = folder / CARD_FILE
    path.write_text(card, encoding="utf-8")
    return path


def write_genre_card(genre, folder: str | Path | None = None) -> Path:
    """A shipped genre's card from its registry entry (source, licence) and its checkpoint's own
    records (how it was trained, and the held-out figures of evaluation.json when the genre has been
    evaluated); ``folder``: the checkpoint, when it is not the genre's own folder."""
    from .checkpoint import load_checkpoint
    from .genres import representation_note

    folder = Path(folder) if folder else genre.local_dir()
    checkpoint = load_checkpoint(folder)
    return write_model_card(
        folder, title=f"genre-lstm: {genre.name}",
        summary=f"An LSTM that continues music in the style of: {genre.source}. "
                "See EVALUATION.md in the genre-lstm repository for how each figure is measured.",
        parameters=checkpoint.parameter_count, hardware=checkpoint.info.get("hardware", "unknown hardware"),
        figures=read_optional(folder, EVALUATION_FILE).get("figures"),
        representation=representation_note(genre, checkpoint.config.metric_position, checkpoint.config.parts,
                                           checkpoint.config.previous_in_part),
        licensing=Licensing(genre.licence, genre.music_licence, genre.datasets))


def _licence_line(licensing: Licensing) -> str:
    """The card's licence line (with its newline), or nothing when the music's terms are not known."""
    if not licensing.music:
        return ""
    return f"- Licence: this checkpoint `{licensing.licence}`; the music it learned from: {licensing.music}\n"


def _sampling_line(defaults: dict) -> str:
    """What the checkpoint plays unless a request says otherwise (its generation.json)."""
    if not defaults:
        return "- Sampling: temperature 1.0, every token (the house defaults)"
    top_k = defaults.get("top_k") or 0
    held = []
    if defaults.get("key_bias"):
        held.append(f"a pitch outside the seed's key e^{defaults['key_bias']:g} times less likely")
    if defaults.get("register_margin"):
        held.append(f"each part within {defaults['register_margin']} semitones of its seed register")
    if defaults.get("grid_bias"):
        held.append(f"a gap off the seed's rhythmic grid e^{defaults['grid_bias']:g} times less likely")
    return (f"- Sampling defaults (generation.json; a request may change each): temperature "
            f"{defaults.get('temperature', 1.0):g}, {f'top-{top_k}' if top_k else 'every token'}"
            + (f"; held to the seed: {', '.join(held)}" if held else "")
            + f"; {defaults.get('tempo_bpm', '?')} BPM")


def _rhythm_classes(config: dict) -> str:
    """What the checkpoint's duration and gap classes cover, from its ModelConfig."""
    if config.get("n_durations", 48) <= 48:
        return "durations 1-48 units, gaps to the next step 0-48 units: up to a whole note"
    return ("durations 1-48 units and gaps 0-48 units, then every eighth note up to 192 units: "
            "held and tied notes up to four whole notes")


def model_card(*, title: str, summary: str, info: dict, config: dict, vocab_size: int, parameters: int,
               weights_bytes: int, hardware: str, figures: dict | None = None,
               licensing: Licensing = Licensing()) -> str:
    """A model card: metadata for the hub, then what the model is, its data and its figures."""
    training = info.get("training", {})
    steps, split = training.get("steps", {}), training.get("split", {})
    rows = "\n".join(f"| {k} | {v} |" for k, v in (figures or {}).items()) or "| not measured yet | |"
    tags = ("music-generation", "lstm", "symbolic-music", "midi", "genre-lstm")
    front = "\n".join([
        "---",
        "library_name: keras",
        f"license: {licensing.licence}",
        "tags:", *(f"  - {t}" for t in tags),
        "datasets:", *(f"  - {d}" for d in licensing.datasets),
        "metrics:", "  - cross_entropy", "  - accuracy",
        "---",
    ])
    return f"""{front}

# {title}

{summary}

Made with genre-lstm: `genre-lstm generate --checkpoint <this folder or OWNER/NAME> --out out/`.

## Data
- Source: {info.get('source', 'unknown')}
{_licence_line(licensing)}- Pieces: {info.get('pieces', '?')}; split by piece (never by window): train {split.get('train', '?')},
  held-out validation {split.get('valid', '?')}, held-out test {split.get('test', '?')}
- Steps (one note or chord each): train {steps.get('train', '?')}, validation {steps.get('valid', '?')},
  test {steps.get('test', '?')}
- Vocabulary: {vocab_size} tokens (pitch sets with octaves, plus end-of-piece and rare-chord tokens);
  pitch sets outside it become the rare-chord token in training (never sampled; held-out scoring
  gives each its own back-off probability). Rhythm on a grid of 12 units per quarter note
  ({_rhythm_classes(config)}).
{info.get('representation', '')}

## Model
- Preset `{config.get('preset')}`: LSTM {config.get('units')}, embedding width {config.get('embed_dim')},
  three softmax heads (token, duration, shift)
- Parameters: {parameters:,}; weights file {weights_bytes / 1e6:.2f} MB (float16 storage, no optimizer state)
- Training: {training.get('epochs_run', '?')} epochs, best at epoch {training.get('best_epoch', '?')},
  held-out (validation) loss {training.get('best_val_loss', float('nan')):.4f} nats per step,
  {training.get('seconds', 0) / 60:.1f} min on {hardware}
{_sampling_line(info.get('sampling', {}))}

## Held-out figures
| figure | value |
|---|---|
{rows}

## Training settings
```json
{json.dumps(training.get('settings', {}), indent=2, sort_keys=True)}
```
"""
