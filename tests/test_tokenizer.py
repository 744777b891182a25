import numpy as np
import pytest

from genre_lstm.errors import VocabularyError
from genre_lstm.model.tokenizer import (
    END_ID,
    NO_PITCH,
    RARE_ID,
    Vocabulary,
    ids_to_latest_in_parts,
    ids_to_previous_in_next_part,
    transpose_into_range,
)
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


def test_each_part_remembers_its_latest_pitch_until_the_piece_ends():
    # a melody (part 0) and a bass (part 1): C4, bass C3, E4, bass C3, end; a new piece: G4 in the bass, C4
    vocab = Vocabulary.build([[Step((60,), 1, 1), Step((64,), 1, 1), Step((67,), 1, 1), Step((48,), 1, 1)]])
    c4, e4, g4, c3 = (vocab.id_of((p,)) for p in (60, 64, 67, 48))
    tokens = np.array([END_ID, c4, c3, e4, c3, END_ID, g4, c4])
    parts = np.array([0, 0, 1, 0, 1, 0, 1, 0])
    latest = ids_to_latest_in_parts(tokens, parts, vocab.top_pitches(), 2)
    assert latest[4].tolist() == [64, 48]  # the melody's E4 is still its latest after the bass played
    assert latest[5].tolist() == [NO_PITCH, NO_PITCH]  # an end token forgets the finished piece
    assert latest[7].tolist() == [60, 67]
    # what the token head is told at each position: the latest pitch of the part it predicts next
    previous = ids_to_previous_in_next_part(tokens, parts, vocab.top_pitches(), 2)
    assert previous.tolist() == [NO_PITCH, NO_PITCH, 60, 48, 64, NO_PITCH, NO_PITCH, NO_PITCH]


def test_a_token_is_outside_a_part_range_when_any_of_its_pitches_is():
    vocab = Vocabulary.build([PIECE])
    outside = vocab.outside_ranges([(60, 67), (40, 62)])
    assert not outside[0, vocab.id_of((60, 64, 67))] and outside[1, vocab.id_of((60, 64, 67))]
    assert not outside[:, END_ID].any() and not outside[1, vocab.id_of((62,))]


def test_tokens_outside_a_set_of_pitch_classes_are_marked(tiny_checkpoint):
    vocab = tiny_checkpoint.vocab
    outside = vocab.outside_pitch_classes({0, 2, 4, 5, 7, 9, 11})
    for index in range(2, len(vocab)):
        assert outside[index] == any(p % 12 in (1, 3, 6, 8, 10) for p in vocab.pitches_of(index))
    assert not outside[:2].any()  # end and rare tokens hold no pitch
