"""The one definition of a generation request: raw values in, a checked request out."""

import math

import pytest

from genre_lstm.errors import InvalidParameterError
from genre_lstm.request import FIELD, FIELDS, GenerationRequest


def test_raw_form_values_become_a_typed_request():
    request = GenerationRequest.from_values(length="200", temperature=0.8, tempo="0", variations=2.0,
                                            include_seed="true", instrument="Violin")
    assert request.length == 200 and request.variations == 2 and request.include_seed is True
    assert request.tempo is None  # 0 means the genre's tempo
    assert request.temperature == 0.8 and request.instrument == "Violin"


def test_missing_values_take_the_fields_defaults():
    request = GenerationRequest.from_values(length=None, rhythm="", top_k=None)
    assert request == GenerationRequest()
    assert request.length == FIELD["length"].default == 500


def test_a_checkpoint_fills_what_the_request_leaves_open(tiny_checkpoint, tiny_paper):
    resolved = GenerationRequest().for_checkpoint(tiny_checkpoint)
    defaults = tiny_checkpoint.defaults
    assert (resolved.temperature, resolved.top_k, resolved.tempo, resolved.program) == (
        defaults.temperature, defaults.top_k, defaults.tempo_bpm, defaults.program)
    assert GenerationRequest(rhythm="learned").for_checkpoint(tiny_paper).rhythm == "random"  # no rhythm heads


PARTNERS = {"offset_min": {"offset_max": 4.0}, "offset_max": {"offset_min": 0.01}}  # min <= max holds


@pytest.mark.parametrize("field", [f for f in FIELDS if f.low is not None], ids=lambda f: f.name)
def test_every_limited_field_accepts_its_bounds_and_refuses_beyond(field):
    step = 1 if field.kind is int else 0.001
    partner = PARTNERS.get(field.name, {})
    for inside in (field.low, field.high):
        assert getattr(GenerationRequest.from_values(**{field.name: inside}, **partner), field.name) == inside
    if field.zero_is_default:
        assert getattr(GenerationRequest.from_values(**{field.name: 0}, **partner), field.name) is None
    below = () if field.zero_is_default and field.low - step == 0 else (field.low - step,)
    for outside in (*below, field.high + step, math.nan, math.inf, "many", True, [1]):
        with pytest.raises(InvalidParameterError, match=f"{field.words} must be"):
            GenerationRequest.from_values(**{field.name: outside}, **partner)


def test_whole_number_fields_refuse_fractions():
    with pytest.raises(InvalidParameterError, match="length must be a whole number from 1 to 2000, not 2.5"):
        GenerationRequest.from_values(length=2.5)


def test_cross_field_limits():
    with pytest.raises(InvalidParameterError, match="offset min must not exceed offset max"):
        GenerationRequest(offset_min=0.9, offset_max=0.2)
    with pytest.raises(InvalidParameterError, match="random seed plus variations"):
        GenerationRequest(random_seed=2**32 - 1, variations=2)
    with pytest.raises(InvalidParameterError, match="unknown General MIDI instrument"):
        GenerationRequest(instrument="kazoo")
    with pytest.raises(InvalidParameterError, match="unknown request field"):
        GenerationRequest.from_values(loudness=11)
