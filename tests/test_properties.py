"""Property-based tests of the token layer and the sampler (hypothesis)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genre_lstm.errors import InvalidParameterError
from genre_lstm.model.generate import generate
from genre_lstm.model.tokenizer import FINE_UNITS, Vocabulary
from genre_lstm.music.events import (
    GRID,
    MAX_DURATION_UNITS,
    MAX_SHIFT_UNITS,
    Step,
    playable_steps,
)
from genre_lstm.music.midi_io import midi_file_to_steps, steps_to_midi_file
from genre_lstm.request import GenerationRequest

pitch_sets = st.lists(st.sampled_from([0, 1, 12, 59, 60, 61, 64, 67, 72, 126, 127]), min_size=1, max_size=4,
                      unique=True).map(lambda ps: tuple(sorted(ps)))
steps = st.builds(lambda pitches, duration, shift: Step(pitches, duration / GRID, shift / GRID), pitch_sets,
                  st.integers(1, MAX_DURATION_UNITS), st.integers(1, MAX_SHIFT_UNITS))  # gaps > duration are rests
# up to a whole note every grid length has a class of its own (beyond it, every eighth note)
fine_steps = st.builds(lambda pitches, duration, shift: Step(pitches, duration / GRID, shift / GRID), pitch_sets,
                       st.integers(1, FINE_UNITS), st.integers(1, FINE_UNITS))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(steps, min_size=1, max_size=40))
def test_any_grid_piece_survives_midi_and_back(tmp_path, piece):
    path = steps_to_midi_file(piece, tmp_path / "p.mid")
    assert midi_file_to_steps(path) == playable_steps(piece)


@settings(max_examples=150, deadline=None)
@given(st.lists(fine_steps, min_size=1, max_size=40))
def test_tokens_round_trip_the_playable_form(piece):
    playable = playable_steps(piece)
    vocab = Vocabulary.build([playable], min_count=1)
    encoded = vocab.encode(playable)
    assert vocab.decode(encoded.tokens, encoded.durations, encoded.shifts) == playable
    assert playable_steps(playable) == playable


@settings(max_examples=30, deadline=None)
@given(temperature=st.floats(0.05, 5.0), top_k=st.integers(0, 40), seed=st.integers(0, 2**32 - 5),
       length=st.integers(1, 30), variations=st.integers(1, 4), rhythm=st.sampled_from(["learned", "random"]))
def test_the_sampler_returns_in_vocabulary_steps_of_the_requested_count(tiny_checkpoint, temperature, top_k, seed,
                                                                         length, variations, rhythm):
    top_k = min(top_k, len(tiny_checkpoint.vocab))
    pieces = generate(tiny_checkpoint, tiny_checkpoint.seed_steps(0), GenerationRequest(
        length=length, temperature=temperature, top_k=top_k, random_seed=seed, variations=variations, rhythm=rhythm))
    known = {tiny_checkpoint.vocab.pitches_of(i) for i in range(2, len(tiny_checkpoint.vocab))}
    assert len(pieces) == variations
    for piece in pieces:
        assert len(piece.steps) == length
        assert all(step.pitches in known and step.shift > 0 and step.duration > 0 for step in piece.steps)


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    st.fixed_dictionaries({"temperature": st.one_of(st.floats(max_value=0.0499), st.floats(min_value=5.01),
                                                    st.just(float("nan")))}),
    st.fixed_dictionaries({"top_k": st.one_of(st.integers(max_value=-1), st.integers(min_value=100_000))}),
    st.fixed_dictionaries({"random_seed": st.one_of(st.integers(max_value=-1), st.integers(min_value=2**32))}),
    st.fixed_dictionaries({"length": st.one_of(st.integers(max_value=0), st.integers(min_value=2001))}),
    st.fixed_dictionaries({"variations": st.one_of(st.integers(max_value=0), st.integers(min_value=17))}),
    st.fixed_dictionaries({"offset_min": st.floats(-10, 0.0), "offset_max": st.floats(4.01, 100)}),
))
def test_out_of_range_parameters_are_rejected_by_validation(tiny_checkpoint, change):
    with pytest.raises(InvalidParameterError):
        GenerationRequest(**change)
