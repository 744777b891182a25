import math

import numpy as np

from genre_lstm.corpus import Piece
from genre_lstm.evaluate import KneserNey, PitchSetBackoff, copy_figures, score_model, score_ngram, score_paper
from genre_lstm.events import Step


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
    from genre_lstm.evaluate import muspy_figures

    melody = muspy_figures([p.steps[:64] for p in irish_pieces[:3]])
    chords = muspy_figures([[Step((60, 64, 67), 1.0, 1.0)] * 16])
    assert 0 < melody["pitch_class_entropy"] < math.log2(12) and 0.5 < melody["scale_consistency"] <= 1
    assert math.isclose(melody["polyphony"], 1.0) and math.isclose(chords["polyphony"], 3.0)
    assert math.isclose(chords["scale_consistency"], 1.0) and chords["empty_beat_rate"] == 0.0
