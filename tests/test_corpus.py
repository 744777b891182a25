import os
from pathlib import Path

import pytest
from conftest import corpus_file

from genre_lstm.training.corpus import (
    cache_dir,
    collection_paths,
    read_pieces,
    split_pieces,
)


def test_collections_are_found_in_music21s_corpus():
    assert len(collection_paths("bach-chorales")) > 400
    assert len(collection_paths("oneills1850")) == 39
    assert [p.name for p in collection_paths("essen-chinese")] == ["han1.abc", "han2.abc"]
    assert len(collection_paths("ryans-mammoth")) == 1059  # one tune a file
    assert [p.name for p in collection_paths("airds-airs")] == [f"book{n}.abc" for n in range(1, 7)]


def test_split_is_by_piece_and_deterministic(irish_pieces):
    first, again = split_pieces(irish_pieces), split_pieces(list(reversed(irish_pieces)))
    ids = [{p.id for p in part} for part in (first.train, first.valid, first.test)]
    assert ids[0].isdisjoint(ids[1]) and ids[0].isdisjoint(ids[2]) and ids[1].isdisjoint(ids[2])
    assert sum(map(len, ids)) == len(irish_pieces)
    assert [p.id for p in again.valid] == [p.id for p in first.valid]
    assert first.valid and first.test


def test_parsed_tokens_are_cached_as_json_and_reused(oneills_path, irish_pieces):
    cached = list(cache_dir().glob("*.json"))
    assert cached and all(p.read_text().startswith("{") for p in cached)
    report = read_pieces([oneills_path])  # second read: served from the cache
    assert [p.steps for p in report.pieces] == [p.steps for p in irish_pieces]
    assert report.pieces[0].id == "oneills1850/0001-0050.abc#0"


def test_unreadable_files_are_reported_not_fatal(tmp_path, oneills_path):
    bad = tmp_path / "junk.mid"
    bad.write_bytes(b"junk")
    report = read_pieces([bad, oneills_path], root=tmp_path)
    assert len(report.pieces) == 50
    assert report.skipped[0][0] == "junk.mid" and "not a MIDI file" in report.skipped[0][1]


def _cache_files() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(cache_dir().glob("*.json"))}


def _mixed_files(tmp_path):
    """Real files of three kinds: an ABC book read in two parts, MusicXML madrigals, and junk."""
    from genre_lstm.music.midi_io import abc_book_parts

    book = corpus_file("oneills1850/0900-0950.abc")  # 51 tunes
    assert abc_book_parts(book) == 2
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"junk")
    madrigals = [corpus_file(f"monteverdi/madrigal.3.{n}.mxl") for n in (1, 2, 3)]
    return [book, *madrigals, junk]


def test_two_workers_write_the_cache_and_read_the_pieces_of_one(tmp_path, monkeypatch):
    from genre_lstm.music.midi_io import score_file_to_pieces

    files = _mixed_files(tmp_path)
    reports, caches = {}, {}
    for workers in (1, 2):
        monkeypatch.setenv("GENRE_LSTM_CACHE", str(tmp_path / f"cache-{workers}"))
        reports[workers] = read_pieces(files, workers=workers)
        caches[workers] = _cache_files()
    assert len(caches[1]) == len(files) and caches[2] == caches[1]
    assert reports[2] == reports[1] and reports[1].skipped[0][0] == "junk.mid"
    whole_book = score_file_to_pieces(files[0])  # music21 on the whole file: what the parts add up to
    assert [p.steps for p in reports[1].pieces[:len(whole_book)]] == whole_book and len(whole_book) == 51


def test_a_killed_parse_resumes_from_the_cache(tmp_path, monkeypatch):
    """Parse in a child with 2 workers, kill it (and its workers) once the first file is cached,
    then parse again: the cached files are not parsed again and the result is whole."""
    import signal
    import subprocess
    import sys
    import time

    files = _mixed_files(tmp_path)[:1] + [corpus_file(f"monteverdi/madrigal.4.{n}.mxl") for n in range(1, 9)]
    monkeypatch.setenv("GENRE_LSTM_CACHE", str(tmp_path / "cache"))
    script = "import sys; from genre_lstm.training.corpus import read_pieces; read_pieces(sys.argv[1:], workers=2)"
    child = subprocess.Popen([sys.executable, "-c", script, *map(str, files)], start_new_session=True,
                             cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + 240
    while not list(cache_dir().glob("*.json")) and child.poll() is None:
        assert time.monotonic() < deadline, "no file was cached"
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    cached_before = len(list(cache_dir().glob("*.json")))
    seen = []
    resumed = read_pieces(files, workers=2, progress=lambda done, total: seen.append(done))
    assert 1 <= cached_before < len(files) and seen[0] == cached_before and seen[-1] == len(files)
    monkeypatch.setenv("GENRE_LSTM_CACHE", str(tmp_path / "fresh"))
    assert read_pieces(files, workers=1) == resumed


def test_parse_workers_default_to_every_core_and_are_checked():
    from genre_lstm.errors import InvalidParameterError
    from genre_lstm.training.corpus import PARSE_WORKERS_MAX, parse_workers

    assert parse_workers(None) == len(os.sched_getaffinity(0)) and parse_workers(3) == 3
    for bad in (0, PARSE_WORKERS_MAX + 1):
        with pytest.raises(InvalidParameterError, match="parse workers"):
            parse_workers(bad)


def test_seed_windows_sample_the_pieces_that_fill_a_window_not_the_longest(irish_pieces):
    from genre_lstm.training.train import SEED_WINDOW, seed_windows

    full = sorted((p for p in irish_pieces if len(p.steps) >= SEED_WINDOW), key=lambda p: (-len(p.steps), p.id))
    seeds = seed_windows(irish_pieces, count=5)
    chosen = [s["piece"] for s in seeds]
    assert len(full) > 5 and set(chosen) <= {p.id for p in full}  # whole windows first
    assert chosen != [p.id for p in full[:5]]  # a sample of them, not the five longest
    assert seed_windows(list(reversed(irish_pieces)), count=5) == seeds  # fixed by the pieces, not their order
    assert all(len(s["steps"]) == SEED_WINDOW and s["start"] == 0 for s in seeds)
