import pytest

from genre_lstm.errors import VocabularyError
from genre_lstm.model.tokenizer import END_ID, RARE_ID, Vocabulary, transpose_into_range
from genre_lstm.music.events import Step

PIECE = [Step((60,), 1.0, 1.0), Step((62,), 0.5, 0.5), Step((60, 64, 67), 2.0, 2.0), Step((60,), 1.0, 1.0)]


def test_vocabulary_orders_by_frequency_after_special_tokens():
    vocab = Vocabulary.build([PIECE], min_count=1)
    assert vocab.tokens[:3] == ["<end>", "<rare>", "C4"]
    encoded = vocab.encode(PIECE)
    assert vocab.decode(encoded.tokens, encoded.durations, encoded.shifts) == PIECE


def test_unknown_chord_maps_to_nearest_token_never_key_error():
    vocab = Vocabulary.build([PIECE], min_count=1)
    assert vocab.tokens[vocab.id_of((60, 64, 68))] == "C4.E4.G4"
    assert vocab.tokens[vocab.id_of((61,))] in ("C4", "D4")
    assert vocab.id_of((61,), exact=True) == RARE_ID


def test_seed_far_out_of_range_is_moved_by_octaves_first():
    vocab = Vocabulary.build([PIECE], min_count=1)
    high = [Step((98,), 1.0, 1.0)]  # D7: three octaves up
    assert transpose_into_range(high, vocab.pitch_range)[0].pitches == (62,)
    assert vocab.tokens[vocab.encode_seed(high).tokens[0]] == "D4"


def test_decode_stops_at_end_token():
    vocab = Vocabulary.build([PIECE], min_count=1)
    assert vocab.decode([2, END_ID, 2], [11, 11, 11], [12, 12, 12]) == [Step((60,), 1.0, 1.0)]


def test_saved_vocabulary_has_a_version_and_loads_back(tmp_path):
    vocab = Vocabulary.build([PIECE], min_count=1)
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json").tokens == vocab.tokens
    (tmp_path / "old.json").write_text('{"version": 0, "tokens": ["<end>", "<rare>"]}')
    with pytest.raises(VocabularyError, match="version"):
        Vocabulary.load(tmp_path / "old.json")
