"""Shared fixtures: private temp folders, offline hub, small real music and tiny trained models.

Everything a test writes goes under one temporary folder: HOME, TMPDIR, KERAS_HOME, MPLCONFIGDIR,
the token cache and HF_HOME, and the hub is offline, so the suite never touches the network or
the user's own caches.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_ROOT = Path(tempfile.mkdtemp(prefix="genre-lstm-tests-"))
for _name, _sub in {"HOME": "home", "TMPDIR": "tmp", "KERAS_HOME": "keras", "MPLCONFIGDIR": "mpl",
                    "GENRE_LSTM_CACHE": "cache", "HF_HOME": "hf"}.items():
    (_ROOT / _sub).mkdir()
    os.environ[_name] = str(_ROOT / _sub)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ.pop("GENRE_LSTM_HUB_ORG", None)
os.environ.pop("GENRE_LSTM_SOUNDFONT", None)
tempfile.tempdir = None  # re-read TMPDIR

import pytest  # noqa: E402

from genre_lstm.model.backend import import_keras  # noqa: E402

import_keras()


def corpus_file(relative: str) -> Path:
    from music21 import common

    return Path(common.getCorpusFilePath()) / relative


@pytest.fixture(scope="session")
def chorale_path() -> Path:
    return corpus_file("bach/bwv66.6.mxl")


@pytest.fixture(scope="session")
def oneills_path() -> Path:
    return corpus_file("oneills1850/0001-0050.abc")


@pytest.fixture(scope="session")
def palestrina_path() -> Path:
    return corpus_file("palestrina/Agnus_01.krn")


@pytest.fixture(scope="session")
def irish_pieces(oneills_path):
    """50 real O'Neill tunes as pieces (one ABC file of the bundled corpus)."""
    from genre_lstm.training.corpus import read_pieces

    return read_pieces([oneills_path]).pieces


def _train_tiny(pieces, folder, preset, **options):
    """Train a narrow ``preset`` network two epochs on ``pieces`` (``options``: ModelConfig fields)."""
    from genre_lstm.store.checkpoint import GenerationDefaults
    from genre_lstm.training.train import TrainSettings, train_checkpoint

    model = {"units": [48, 48], "embed_dim": 16} if preset == "default" else {"units": [16, 16, 16], "dense_units": 16}
    model.update(options)
    settings = TrainSettings(preset=preset, epochs=2, batch_size=32, model=model, verbose=0, random_seed=1)
    train_checkpoint(pieces, folder, settings=settings,
                     defaults=GenerationDefaults(name=f"tiny-{preset}", tempo_bpm=120, program=40))
    return folder


@pytest.fixture(scope="session")
def tiny_checkpoint_dir(irish_pieces, tmp_path_factory) -> Path:
    """A default-preset checkpoint trained for two epochs on 50 real tunes."""
    return _train_tiny(irish_pieces, tmp_path_factory.mktemp("tiny-default") / "ck", "default")


@pytest.fixture(scope="session")
def tiny_paper_dir(irish_pieces, tmp_path_factory) -> Path:
    """A paper-preset checkpoint (narrow layers) trained briefly on the same tunes."""
    return _train_tiny(irish_pieces[:12], tmp_path_factory.mktemp("tiny-paper") / "ck", "paper")


@pytest.fixture(scope="session")
def tiny_conditioned_dir(irish_pieces, tmp_path_factory) -> Path:
    """A default-preset checkpoint with every input and feature its family has: metric positions,
    range conditioning, pitch and top-line features (trained briefly on 24 of the same tunes)."""
    return _train_tiny(irish_pieces[:24], tmp_path_factory.mktemp("tiny-conditioned") / "ck", "default",
                       metric_position=True, range_conditioning=True, pitch_features=True, top_line_features=True)


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_checkpoint_dir):
    from genre_lstm.store.checkpoint import load_checkpoint

    return load_checkpoint(tiny_checkpoint_dir)


@pytest.fixture(scope="session")
def tiny_paper(tiny_paper_dir):
    from genre_lstm.store.checkpoint import load_checkpoint

    return load_checkpoint(tiny_paper_dir)


@pytest.fixture(scope="session")
def tiny_conditioned(tiny_conditioned_dir):
    from genre_lstm.store.checkpoint import load_checkpoint

    return load_checkpoint(tiny_conditioned_dir)


def read_frames(path):
    """The samples of a 16-bit WAV, channels interleaved, as floats."""
    import wave

    import numpy as np

    with wave.open(str(path), "rb") as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16).astype(float)


def loudness_curve(path, window_s: float = 0.05):
    """RMS per 50 ms of a 44.1 kHz stereo WAV: renders that should sound the same are compared by how
    loudness moves, since FluidSynth's reverb carries state from one render to the next."""
    import numpy as np

    frames = read_frames(path)
    width = int(window_s * 44100) * 2
    count = len(frames) // width
    return np.sqrt((frames[:count * width].reshape(count, width) ** 2).mean(axis=1))


def write_midi(path: Path, tracks: list[list], *, midi_type: int = 1, ticks: int = 480) -> Path:
    """Write a MIDI file with mido from lists of messages (delta times in ticks)."""
    import mido

    midi = mido.MidiFile(type=midi_type, ticks_per_beat=ticks)
    for messages in tracks:
        track = mido.MidiTrack()
        track.extend(messages)
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """The real app, launched once on 127.0.0.1 at a free port."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import app

    demo = app.build_demo()
    port = _free_port()
    app.launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="session")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser), shared by a module's browser
    tests (per module: Playwright's sync API keeps an event loop in this thread while it runs)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where browser tests leave screenshots: a temporary folder, never the repository."""
    return tmp_path_factory.mktemp("screenshots")


def band_midi(path: Path) -> Path:
    """A real three-track band file: a melody (flute), a bass line (finger bass) and drums on channel 10."""
    import mido

    melody = [mido.MetaMessage("track_name", name="Lead", time=0), mido.Message("program_change", program=73, time=0)]
    for note in (72, 74, 76, 77):
        melody += [mido.Message("note_on", note=note, velocity=80, time=0), mido.Message("note_off", note=note, time=480)]
    bass = [mido.Message("program_change", program=33, channel=1, time=0),
            mido.Message("note_on", note=36, velocity=80, time=0, channel=1),
            mido.Message("note_off", note=36, time=960, channel=1),
            mido.Message("note_on", note=43, velocity=80, time=0, channel=1),
            mido.Message("note_off", note=43, time=960, channel=1)]
    drums = []
    for note in (36, 42, 38, 42) * 2:
        drums += [mido.Message("note_on", note=note, velocity=100, time=0, channel=9),
                  mido.Message("note_off", note=note, time=240, channel=9)]
    return write_midi(path, [[mido.MetaMessage("set_tempo", tempo=500000, time=0)], melody, bass, drums])


CHORALE_VOICES = [{"name": name, "program": 52} for name in ("Soprano", "Alto", "Tenor", "Bass")]


@pytest.fixture(scope="session")
def chorale_pieces():
    """Twelve real Bach chorales with their own parts (voices, and a few instruments)."""
    from genre_lstm.training.corpus import collection_paths, read_pieces

    return read_pieces(collection_paths("bach-chorales")[:12]).pieces


@pytest.fixture(scope="session")
def tiny_parts_dir(chorale_pieces, tmp_path_factory) -> Path:
    """A default-preset checkpoint with four parts (soprano, alto, tenor, bass), trained for four
    short epochs on twelve real chorales."""
    from genre_lstm.store.checkpoint import GenerationDefaults
    from genre_lstm.training.train import TrainSettings, train_checkpoint

    folder = tmp_path_factory.mktemp("tiny-parts") / "ck"
    settings = TrainSettings(epochs=4, batch_size=8, model={"units": [48, 48], "embed_dim": 16}, verbose=0,
                             random_seed=1, parts=CHORALE_VOICES)
    train_checkpoint(chorale_pieces, folder, settings=settings,
                     defaults=GenerationDefaults(name="tiny-chorale", tempo_bpm=80, program=52))
    return folder


@pytest.fixture(scope="session")
def tiny_parts(tiny_parts_dir):
    from genre_lstm.store.checkpoint import load_checkpoint

    return load_checkpoint(tiny_parts_dir)
