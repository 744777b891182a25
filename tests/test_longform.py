"""The long-form measures: beats, bars and steadiness as a written file places them, and the
two-sample test whose folds keep sibling variations together."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from genre_lstm.evaluation.longform import (Metre, Window, grouped_two_sample, pitch_class_entropy, real_windows,
                                            run_seeds, set_figures, training_windows)
from genre_lstm.evaluation.report import with_section
from genre_lstm.music.events import Step
from genre_lstm.training.corpus import Piece


def quarters(count: int, *, position: int | None = 0) -> list[Step]:
    steps = [Step((60 + k % 5,), 1.0, 1.0) for k in range(count)]
    return steps if position is None else [replace(s, position=(position + 12 * k) % 48, meter=(4, 4))
                                           for k, s in enumerate(steps)]


def test_quarter_notes_from_a_bar_line_are_all_on_beats_and_steady():
    metre = Metre.of(quarters(16))
    assert (metre.on_beat, metre.downbeat, metre.best_phase_share, metre.steady) == (1.0, 0.25, 1.0, True)


def test_an_eighth_note_pickup_puts_every_onset_off_the_beat_but_the_phase_stays_steady():
    metre = Metre.of(quarters(16, position=6))
    assert (metre.on_beat, metre.downbeat, metre.best_phase_share, metre.steady) == (0.0, 0.0, 1.0, True)


def test_a_piece_that_slips_an_eighth_half_way_is_not_steady():
    slipped = quarters(8, position=None) + [Step((62,), 0.5, 0.5)] + quarters(8, position=None)
    assert Metre.of(slipped[:9]).steady and not Metre.of(slipped).steady


def test_steps_without_positions_are_measured_from_a_four_four_bar_line():
    assert Metre.of(quarters(12, position=None)) == Metre.of(quarters(12))


def test_pitch_class_entropy_is_in_bits():
    assert pitch_class_entropy([Step((60,), 1, 1), Step((62,), 1, 1)]) == 1.0
    assert set_figures([quarters(8)])["pitch_range"] == 4


def test_the_two_sample_test_tells_real_tunes_from_shuffled_rhythm_and_not_from_other_real_tunes(irish_pieces):
    real = [p.steps[:80] for p in irish_pieces[:48]]
    rng = np.random.default_rng(0)
    jumbled = [[replace(s, shift=float(rng.choice([0.25, 0.75, 1.25])), position=None, meter=None) for s in piece]
               for piece in real[:24]]
    runs = [k // 4 for k in range(24)]  # variations of six runs
    apart, _ = grouped_two_sample(jumbled, runs, real[24:], [f"tune {k}" for k in range(24)])
    alike, _ = grouped_two_sample(real[:24], runs, real[24:], [f"tune {k}" for k in range(24)])
    assert apart >= 0.85
    assert alike <= 0.75


def test_few_long_pieces_give_as_many_windows_as_many_short_ones(irish_pieces):
    songs = {f"song {k}": Piece(f"song {k}", [s for p in irish_pieces[10 * k:10 * k + 10] for s in p.steps], ())
             for k in range(3)}
    assert min(len(song.steps) for song in songs.values()) >= 400
    windows = real_windows(list(songs.values()), count=12, length=100)
    assert len(windows) == 12 and {len(w.steps) for w in windows} == {100} and {w.piece.id for w in windows} == set(songs)
    first = windows[0].piece
    assert [w.steps for w in windows[:4]] == [first.steps[at:at + 100] for at in (0, 100, 200, 300)]  # a song together
    whole = real_windows(irish_pieces[:6], count=80, length=10_000)
    assert sorted(len(w.steps) for w in whole) == sorted(len(p.steps) for p in irish_pieces[:6])  # short: once, whole


def test_each_run_continues_the_music_just_before_the_real_windows_it_is_paired_with(irish_pieces):
    song = Piece("song", [s for p in irish_pieces[:10] for s in p.steps], ())
    tune = irish_pieces[10]
    windows = real_windows([song, tune], count=8, length=100)
    seeds = run_seeds(windows, seed_length=40, runs=20)
    firsts = windows[::4]  # a run per four windows, its variations paired with them
    assert len(seeds) == 2 and {w.start > 0 for w in firsts} == {True, False}
    for window, seed in zip(firsts, seeds):
        before = window.piece.steps[window.start - 40:window.start] if window.start else None
        opening = window.piece.steps[:min(40, len(window.piece.steps) // 2)]  # never more than half a piece
        assert seed == (before if window.start else opening)
    assert Window(tune, 0, 100).seed(10_000) == tune.steps[:len(tune.steps) // 2]
    assert Window(song, 200, 100).seed(40) == song.steps[160:200]


def test_training_windows_pair_each_held_out_window_with_as_long_a_stretch_of_a_training_piece(irish_pieces):
    held_out = real_windows(irish_pieces[:6], count=6, length=10_000)  # short tunes: each whole
    train = irish_pieces[6:40]
    paired = training_windows(train, held_out)
    assert len(paired) == len(held_out)
    assert [len(ours.steps) for ours in paired] == [min(len(theirs.steps), len(ours.piece.steps))
                                                   for ours, theirs in zip(paired, held_out)]
    assert {w.piece.id for w in paired} <= {p.id for p in train}
    assert all(w.steps == w.piece.steps[w.start:w.start + len(w.steps)] for w in paired)


def test_a_section_is_replaced_in_place_and_the_rest_kept():
    document = "# Evaluation\n\n## A\n\nold\n\n## B\n\nkept\n"
    assert with_section(document, "## A", "## A\n\nnew\n") == "# Evaluation\n\n## A\n\nnew\n\n## B\n\nkept\n"
    assert with_section("# Evaluation\n", "## C", "## C\n\nadded\n") == "# Evaluation\n\n## C\n\nadded\n"
