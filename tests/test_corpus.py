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


def test_seed_windows_sample_the_pieces_that_fill_a_window_not_the_longest(irish_pieces):
    from genre_lstm.training.train import SEED_WINDOW, seed_windows

    full = sorted((p for p in irish_pieces if len(p.steps) >= SEED_WINDOW), key=lambda p: (-len(p.steps), p.id))
    seeds = seed_windows(irish_pieces, count=5)
    chosen = [s["piece"] for s in seeds]
    assert len(full) > 5 and set(chosen) <= {p.id for p in full}  # whole windows first
    assert chosen != [p.id for p in full[:5]]  # a sample of them, not the five longest
    assert seed_windows(list(reversed(irish_pieces)), count=5) == seeds  # fixed by the pieces, not their order
    assert all(len(s["steps"]) == SEED_WINDOW and s["start"] == 0 for s in seeds)
