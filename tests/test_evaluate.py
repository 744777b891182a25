import math
from dataclasses import replace

import numpy as np

from genre_lstm.evaluation.baselines import KneserNey, score_ngram, score_paper
from genre_lstm.evaluation.metrics import PitchSetBackoff, copy_figures, score_model, two_sample_accuracy
from genre_lstm.music.events import Step
from genre_lstm.training.corpus import Piece


def test_kneser_ney_is_a_proper_distribution():
    stream = np.array([0, 2, 3, 4, 2, 3, 5, 0, 2, 3, 4, 0])
    model = KneserNey(3, 6).fit(stream)
    for history in ([], [2], [2, 3], [9, 9]):
        assert math.isclose(sum(model.prob(history, w) for w in range(6)), 1.0, rel_tol=1e-9)


def test_pitch_set_backoff_gives_every_chord_a_finite_probability():
    backoff = PitchSetBackoff([Piece("a", [Step((60, 64, 67), 1, 1), Step((62,), 1, 1)])])
    assert math.isfinite(backoff.log_prob((0, 127)))
    assert backoff.log_prob((60, 64, 67)) > backoff.log_prob((1, 2, 3))


def test_held_out_scores_are_finite_for_model_and_ngrams(tiny_checkpoint, irish_pieces):
    backoff = PitchSetBackoff(irish_pieces[:40])
    model = score_model(tiny_checkpoint, irish_pieces[40:], backoff)
    ngram = score_ngram(irish_pieces[:40], irish_pieces[40:], tiny_checkpoint.vocab, 3, backoff)
    assert model.steps == ngram.steps > 100
    assert all(math.isfinite(x) for x in (model.token, model.duration, model.shift, ngram.token))
    assert 0 <= model.accuracy <= 1


def test_a_training_piece_copies_itself_completely(irish_pieces):
    share, longest = copy_figures([irish_pieces[0].steps], irish_pieces[:5])
    assert share == 1.0 and longest == len(irish_pieces[0].steps)
    share, _ = copy_figures([irish_pieces[0].steps], irish_pieces[10:15])
    assert share < 1.0


def test_paper_baseline_is_scored_on_the_same_steps_as_the_lstm(tiny_checkpoint, tiny_paper, irish_pieces):
    held_out = irish_pieces[-4:]
    backoff = PitchSetBackoff(irish_pieces[:-4])
    per_step = {}
    whole = score_model(tiny_checkpoint, held_out, backoff, per_step=per_step)
    assert sum(len(v) for v in per_step.values()) == whole.steps
    every = score_paper(tiny_paper, held_out, backoff, per_step, count=10**6)
    window = tiny_paper.config.window
    assert every["steps"] == whole.steps - (window - 1) and math.isfinite(every["token"])  # full windows only
    in_order = np.concatenate([per_step[p.id] for p in held_out])
    assert math.isclose(every["lstm_token_same_steps"], float(np.mean(in_order[window - 1:])), rel_tol=1e-9)
    sample = score_paper(tiny_paper, held_out, backoff, per_step, count=50)
    assert sample["steps"] == 50 and math.isfinite(sample["lstm_token_same_steps"])


def test_muspy_metrics_read_our_midi(irish_pieces):
    from genre_lstm.evaluation.metrics import muspy_figures

    melody = muspy_figures([p.steps[:64] for p in irish_pieces[:3]])
    chords = muspy_figures([[Step((60, 64, 67), 1.0, 1.0)] * 16])
    assert 0 < melody["pitch_class_entropy"] < math.log2(12) and 0.5 < melody["scale_consistency"] <= 1
    assert math.isclose(melody["polyphony"], 1.0) and math.isclose(chords["polyphony"], 3.0)
    assert math.isclose(chords["scale_consistency"], 1.0) and chords["empty_beat_rate"] == 0.0


def test_genre_classifier_tells_fiddle_tunes_from_polyphony(irish_pieces, palestrina_path):
    from genre_lstm.evaluation.metrics import genre_accuracy
    from genre_lstm.training.corpus import read_pieces

    def windows(pieces):
        return [p.steps[at:at + 16] for p in pieces for at in range(0, len(p.steps) - 15, 16)]

    masses = read_pieces(sorted(palestrina_path.parent.glob("Agnus_0*.krn"))[:5]).pieces
    mass_train, mass_held = windows(masses[:4]), windows(masses[4:])
    fiddle_train, fiddle_held = windows(irish_pieces[:30]), windows(irish_pieces[30:])
    results = [{"genre": "fiddle", "_sets": {"all_train": fiddle_train, "held_out": fiddle_held,
                                              "generated": mass_held}},
               {"genre": "mass", "_sets": {"all_train": mass_train, "held_out": mass_held,
                                            "generated": fiddle_held}}]
    shares = genre_accuracy(results)
    assert shares["fiddle"]["held_out"] > 0.9 and shares["mass"]["held_out"] > 0.9
    assert shares["fiddle"]["generated"] < 0.1 and shares["mass"]["generated"] < 0.1  # the other genre's music


def test_target_checks_follow_the_issue_thresholds():
    from genre_lstm.evaluation.report import evaluation_markdown, target_checks

    rhythm = {"pitch count": 0.9, "inter-onset interval": 0.9, "note length": 0.8}
    result = {"genre": "g", "model": {"token": 2.0, "duration": 0.5, "shift": 0.3, "accuracy": 0.4, "steps": 10},
              "ngrams": {1: {"token": 2.5}, 3: {"token": 2.2}},
              "two_sample": {"lstm": (0.74, 0.05), "markov3": (0.9, 0.04), "markov5": (0.85, 0.04),
                             "train_vs_held_out": (0.6, 0.07)},
              "copy": {"generated": (0.01, 12), "real_held_out": (0.05, 9)},
              "yang_lerch": {"learned": rhythm, "random": dict(rhythm, **{"note length": 0.1})},
              "window": {"length": 64, "count": 100}}
    checks = target_checks(result, {"generated": 0.89, "held_out": 0.9})
    assert checks[">= 5% better than the best n-gram"] and checks["two-sample <= 0.75"]
    assert checks["two-sample >= 0.10 below order-5 Markov"] and checks["copying <= 1.5x real"]
    assert checks["genre accuracy >= 0.90"] is False and checks["better than the paper preset"] is None
    assert checks["learned rhythm beats random offsets"] is False  # inter-onset interval only ties
    result["two_sample"]["lstm"] = (0.76, 0.05)
    assert not target_checks(result)["two-sample <= 0.75"] and target_checks(result)["genre accuracy >= 0.90"] is None
    assert "| g | met | not measured | **missed** |" in evaluation_markdown([result], "genre-lstm evaluate")


def test_parts_have_targets_of_their_own_and_a_table():
    from genre_lstm.evaluation.report import evaluation_markdown, target_checks

    rhythm = {"inter-onset interval": 0.9, "note length": 0.8}
    part = {"steps": 0.25, "in_range": 0.995, "repeats": 0.2, "steps_1_2": 0.5, "leaps": 0.3}
    result = {"genre": "q", "model": {"token": 2.0, "duration": 0.5, "shift": 0.3, "accuracy": 0.4, "steps": 10},
              "ngrams": {1: {"token": 2.5}}, "unrepresentable": 0.0001,
              "two_sample": {k: (0.7, 0.05) for k in ("lstm", "markov3", "markov5", "train_vs_held_out")},
              "copy": {"generated": (0.01, 12), "real_held_out": (0.05, 9)},
              "yang_lerch": {"learned": rhythm, "random": rhythm}, "window": {"length": 64, "count": 100},
              "parts": {"names": ["Violin I", "Cello"], "generated": [part, dict(part, in_range=0.98)],
                        "held_out": [dict(part, in_range=1.0)] * 2}}
    checks = target_checks(result)
    assert checks["unrepresentable held-out steps <= 3%"] and checks["every part in its range >= 99%"] is False
    assert "| q | 0.01% | Cello | 0.25 / 0.25 | 0.98 / 1.00 |" in evaluation_markdown([result], "genre-lstm evaluate")


def test_a_band_is_compared_by_its_pitched_parts_merged_into_one_line():
    from genre_lstm.evaluation.features import pieces_as_lines
    from genre_lstm.music.events import Part, Step

    band = (Part("guitar", 29), Part("bass", 33), Part("drums", 0, True))
    steps = [Step((64,), 1.0, 0.0, part=0), Step((40,), 1.0, 0.0, part=1), Step((36, 42), 0.5, 1.0, part=2),
             Step((67,), 1.0, 1.0, part=0)]
    [line] = pieces_as_lines([steps], band)
    assert [s.pitches for s in line] == [(40, 64), (67,)]  # the kick and hi-hat are not pitches of the line
    assert [s.shift for s in line] == [1.0, 1.0]
    assert pieces_as_lines([steps], band[:1]) == [steps]  # one part: nothing to merge
    [fill] = pieces_as_lines([[Step((36, 42), 0.5, 0.5, part=2)] * 4], band)
    assert len(fill) == 4  # a drum fill alone is still described, by its keys


def test_two_sample_accuracy_tells_tunes_from_their_pitch_shuffles_and_not_from_other_tunes(irish_pieces):
    rng = np.random.default_rng(0)
    tunes = [p.steps[:48] for p in irish_pieces[:80]]
    shuffled = [[replace(s, pitches=(int(rng.integers(55, 90)),)) for s in tune] for tune in tunes[:40]]
    assert two_sample_accuracy(shuffled, tunes[40:])[0] >= 0.9
    assert two_sample_accuracy(tunes[:40], tunes[40:])[0] <= 0.7
