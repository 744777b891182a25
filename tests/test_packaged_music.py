"""The openly licensed music of Debian packages (DATA.md): Freedoom's WAD music lumps, OpenMSX's and
Planet Blupi's MIDI files, read from the installed packages into the same steps as any MIDI file.

The packages come from `bash scripts/setup.sh --music` (scripts/test.sh runs it); a test that needs
one is skipped, saying so, where it is not installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from genre_lstm.errors import (
    MUSIC_SETUP_COMMAND,
    MusicPackageMissingError,
    MusicReadError,
)
from genre_lstm.music.midi_io import midi_bytes_to_steps, midi_file_to_music, midi_file_to_steps
from genre_lstm.music.wad_io import wad_file_to_lumps, wad_file_to_pieces
from genre_lstm.store.genres import GENRES
from genre_lstm.training.corpus import (
    PACKAGED,
    PACKAGED_COLLECTIONS,
    PackagedMusic,
    collection_paths,
    read_pieces,
)

ROOT = Path(__file__).resolve().parent.parent
FREEDOOM = Path(PACKAGED["freedoom"].folder)
OPENMSX = Path(PACKAGED["openmsx"].folder)
BLUPI = Path(PACKAGED["planetblupi"].folder)


def _needs(package: str, *paths: Path, python: str | None = None):
    """Skip unless the Debian package's files (and the Python package that reads them) are installed."""
    absent = [p for p in paths if not p.exists()]
    reason = f"Debian package {package} is not installed ({MUSIC_SETUP_COMMAND})"
    if python and importlib.util.find_spec("omg" if python == "omgifol" else python) is None:
        absent, reason = [python], f"Python package {python} is not installed ({MUSIC_SETUP_COMMAND})"
    return pytest.mark.skipif(bool(absent), reason=reason)


needs_freedoom = _needs("freedoom", FREEDOOM / "freedoom1.wad", FREEDOOM / "freedoom2.wad", python="omgifol")
needs_openmsx = _needs("openttd-openmsx", OPENMSX / "tttheme2.mid")
needs_blupi = _needs("planetblupi-music-midi", BLUPI / "music000.mid")


@needs_freedoom
def test_freedoom_music_lumps_are_standard_midi_files():
    lumps = wad_file_to_lumps(FREEDOOM / "freedoom2.wad")
    assert len(lumps) == 35 and all(data[:4] == b"MThd" for _, data in lumps)
    assert {"D_RUNNIN", "D_DOOM", "D_ULTIMA"} <= {name for name, _ in lumps}


@needs_freedoom
def test_a_lump_gives_the_steps_the_same_bytes_give_as_a_midi_file(tmp_path):
    name, data = wad_file_to_lumps(FREEDOOM / "freedoom2.wad")[0]
    (tmp_path / "song.mid").write_bytes(data)
    steps = midi_bytes_to_steps(data, name)
    assert len(steps) > 100
    assert steps == midi_file_to_steps(tmp_path / "song.mid")


@needs_freedoom
def test_a_wad_read_as_a_collection_names_its_pieces_by_lump_and_reports_the_repeated_song():
    report = read_pieces([FREEDOOM / "freedoom1.wad"])
    ids = [piece.id for piece in report.pieces]
    assert len(ids) == 31 and ids[0] == "freedoom1.wad#D_E1M1"
    assert report.skipped == [("freedoom1.wad#D_E2M6", "the same song as D_E1M5")]
    again = read_pieces([FREEDOOM / "freedoom1.wad"])  # from the token cache
    assert [p.steps for p in again.pieces] == [p.steps for p in report.pieces] and again.skipped == report.skipped


@needs_freedoom
def test_a_file_that_is_no_wad_is_a_read_error(tmp_path):
    fake = tmp_path / "fake.wad"
    fake.write_bytes(b"PWAD" + b"\xff" * 8)
    with pytest.raises(MusicReadError, match="fake.wad: cannot read as a WAD") as caught:
        wad_file_to_pieces(fake)
    assert isinstance(caught.value.__cause__, OSError)


@needs_openmsx
@needs_blupi
def test_packaged_collections_list_the_installed_files():
    assert [p.name for p in collection_paths("freedoom")] == ["freedoom1.wad", "freedoom2.wad"]
    assert len(collection_paths("openmsx")) == 31 and len(collection_paths("planetblupi")) == 10
    assert collection_paths("game-music") == collection_paths("openmsx") + collection_paths("planetblupi")


@needs_openmsx
def test_openmsx_files_read_like_any_midi_file():
    paths = [OPENMSX / "tttheme2.mid", OPENMSX / "chuggachugga.mid"]
    report = read_pieces(paths)
    assert [p.id for p in report.pieces] == ["tttheme2.mid#0", "chuggachugga.mid#0"]
    assert [p.steps for p in report.pieces] == [midi_file_to_music(p).steps for p in paths]


def test_a_missing_package_names_it_and_the_setup_command(tmp_path):
    absent = PackagedMusic("freedoom", "the Freedoom soundtrack", str(tmp_path), "freedoom[12].wad", "bsd-3-clause")
    with pytest.raises(MusicPackageMissingError) as caught:
        absent.paths()
    message = str(caught.value)
    assert "\n" not in message and "Debian package freedoom" in message and MUSIC_SETUP_COMMAND in message


def test_every_packaged_collection_is_installed_by_the_setup_option():
    listed = {line.strip() for line in (ROOT / "packages-music.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert {music.package for music in PACKAGED.values()} == listed
    assert "--music" in (ROOT / "scripts" / "setup.sh").read_text()
    assert "omgifol==" in (ROOT / "requirements-music.txt").read_text()


def test_a_genre_trained_on_packaged_music_carries_its_licence():
    """A checkpoint learned from GPL music is shared under that GPL; one collection may not mix licences."""
    for collection, parts in PACKAGED_COLLECTIONS.items():
        licences = {PACKAGED[part].licence for part in parts}
        for genre in (g for g in GENRES.values() if g.collection == collection):
            assert len(licences) == 1, f"{genre.id}: its music comes under {sorted(licences)}: no one licence"
            assert genre.licence == licences.pop()
            assert set(genre.datasets) == {f"debian-{PACKAGED[part].package}" for part in parts}
