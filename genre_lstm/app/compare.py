"""The Compare tab's content: the facts table (from data/compare.json), this project's figures
measured live on the running machine, and Jukebox/GANSynth clips from a hub dataset when one is
configured and reachable (never synthesised stand-ins)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from ..environment import COMPARE_DATASET
from ..store.layout import WEIGHTS_FILE

FACTS = Path(__file__).parent / "data" / "compare.json"


def facts() -> dict:
    return json.loads(FACTS.read_text(encoding="utf-8"))


def facts_markdown() -> str:
    """The facts table: each cell with its source link and the hardware it was measured on."""
    data = facts()
    lines = ["| | " + " | ".join(data["columns"]) + " |", "|---|" + "---|" * len(data["columns"])]
    for row in data["rows"]:
        cells = []
        for value, source, hardware in zip(row["values"], row["sources"], row["hardware"]):
            where = f" ({hardware})" if hardware != "-" else ""
            link = f"[source]({source})" if source.startswith("http") else f"source: `{source}`"
            cells.append(f"{value}{where}; {link}")
        lines.append(f"| **{row['fact']}** | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\n{data['note']}"


def measure_one_minute(model: str) -> dict:
    """Generate and render about one minute of music now, on this machine, and report the figures."""
    from ..model.backend import device_description
    from ..pipeline import approximate_seconds, make_music
    from ..request import FIELD, GenerationRequest
    from ..store.hub import get_checkpoint

    checkpoint = get_checkpoint(model)
    per_step = approximate_seconds(checkpoint.folder, 1) or 0.5
    steps = max(16, min(int(FIELD["length"].high), round(60 / per_step)))
    with tempfile.TemporaryDirectory(prefix="genre-lstm-measure-") as folder:
        began = time.perf_counter()
        [output] = make_music(checkpoint, checkpoint.seed_steps(0), GenerationRequest(length=steps), folder,
                              name="measure")
        seconds = time.perf_counter() - began
        midi_bytes, wav_bytes = output.midi.stat().st_size, output.wav.stat().st_size
    weights = checkpoint.folder / WEIGHTS_FILE
    minute = output.music_seconds / 60 or 1
    return {
        "genre": checkpoint.defaults.name, "device": device_description(), "steps": steps,
        "music_seconds": round(output.music_seconds, 1),
        "seconds_per_minute_of_music": round(seconds / minute, 2),
        "parameters": checkpoint.parameter_count, "checkpoint_bytes": weights.stat().st_size,
        "midi_bytes_per_minute": round(midi_bytes / minute), "wav_bytes_per_minute": round(wav_bytes / minute),
    }


def clips() -> tuple[list[dict], str]:
    """(clips with local paths and captions, a message): from $GENRE_LSTM_COMPARE_DATASET if set."""
    repo = COMPARE_DATASET.get()
    links = facts()["sample_pages"]
    pages = "; ".join(f"[{name}]({url})" for name, url in links.items())
    if not repo:
        return [], f"No Jukebox or GANSynth clips are available here (no clip dataset is configured). Listen on: {pages}."
    from ..store.hub import is_repo_id

    if not is_repo_id(repo):
        return [], f"{COMPARE_DATASET.name}={repo!r} is not a hub repo id; listen on: {pages}."
    try:
        from huggingface_hub import hf_hub_download

        index = json.loads(Path(hf_hub_download(repo, "clips.json", repo_type="dataset",
                                                etag_timeout=10)).read_text())
        found = []
        for clip in index.get("clips", []):
            path = hf_hub_download(repo, clip["file"], repo_type="dataset", etag_timeout=10)
            found.append({**clip, "path": path})
        return found, f"Clips from the hub dataset {repo}."
    except Exception as error:  # offline, missing files, bad index: the tab must still work
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        return [], f"No Jukebox or GANSynth clips could be loaded from {repo} ({reason}). Listen on: {pages}."
