from dataclasses import replace

import pytest

from genre_lstm.errors import InvalidParameterError
from genre_lstm.model.generate import generate, paper_window_generate
from genre_lstm.request import GenerationRequest


def test_continues_a_seed_for_the_requested_steps(tiny_checkpoint):
    seed = tiny_checkpoint.seed_steps(0)
    [piece] = generate(tiny_checkpoint, seed, GenerationRequest(length=60, random_seed=3))
    assert len(piece.steps) == 60 and not piece.ended_naturally
    known = {tiny_checkpoint.vocab.pitches_of(i) for i in range(2, len(tiny_checkpoint.vocab))}
    assert all(step.pitches in known for step in piece.steps)


def test_variation_k_equals_a_single_run_with_its_seed(tiny_checkpoint):
    seed = tiny_checkpoint.seed_steps(1)
    batch = generate(tiny_checkpoint, seed, GenerationRequest(length=40, random_seed=10, variations=4))
    single = generate(tiny_checkpoint, seed, GenerationRequest(length=40, random_seed=12))
    assert [p.random_seed for p in batch] == [10, 11, 12, 13]
    assert batch[2].steps == single[0].steps
    assert batch[0].steps != batch[1].steps


def test_without_a_seed_each_variation_keeps_a_training_pieces_register(tiny_conditioned):
    request = GenerationRequest(length=40, random_seed=20, variations=3)
    batch = generate(tiny_conditioned, [], request)
    assert batch[1].steps == generate(tiny_conditioned, [], GenerationRequest(length=40, random_seed=21))[0].steps
    assert len({tiny_conditioned.drawn_register(20 + k) for k in range(3)}) > 1
    # the network is asked for those registers, not for the "not known" it never saw in training
    unknown = generate(replace(tiny_conditioned, registers=[]), [], request)
    assert [p.steps for p in batch] != [p.steps for p in unknown]


def test_random_rhythm_draws_offsets_in_the_range(tiny_checkpoint):
    settings = GenerationRequest(length=50, rhythm="random", offset_min=0.2, offset_max=0.4)
    [piece] = generate(tiny_checkpoint, tiny_checkpoint.seed_steps(0), settings)
    assert all(0.2 <= s.shift <= 0.4 and s.duration == 1.0 for s in piece.steps)


def test_paper_checkpoint_defaults_to_random_offsets(tiny_paper):
    [piece] = generate(tiny_paper, tiny_paper.seed_steps(0), GenerationRequest(length=30))
    assert len(piece.steps) == 30 and all(0.1 <= s.shift <= 0.9 for s in piece.steps)


def test_paper_window_loop_is_greedy_with_random_offsets(tiny_paper):
    seed = tiny_paper.seed_steps(0)
    steps = paper_window_generate(tiny_paper, seed, 5, random_seed=4)
    assert steps == paper_window_generate(tiny_paper, seed, 5, random_seed=4)  # argmax: no sampling noise
    known = {tiny_paper.vocab.pitches_of(i) for i in range(2, len(tiny_paper.vocab))}
    assert all(s.pitches in known and s.duration == 1.0 and 0.1 <= s.shift <= 0.9 for s in steps)
    other = paper_window_generate(tiny_paper, seed, 5, random_seed=5)
    assert [s.pitches for s in other] == [s.pitches for s in steps] and other != steps  # only offsets differ


def test_natural_ending_may_stop_early(tiny_checkpoint):
    pieces = generate(tiny_checkpoint, tiny_checkpoint.seed_steps(0),
                      GenerationRequest(length=300, natural_ending=True, variations=4, temperature=2.0))
    assert all(len(p.steps) <= 300 for p in pieces)
    assert all(p.ended_naturally == (len(p.steps) < 300) for p in pieces)


@pytest.mark.parametrize("change", [dict(length=0), dict(length=5000), dict(variations=17), dict(rhythm="swing"),
                                    dict(offset_min=0.9, offset_max=0.1), dict(random_seed=-1),
                                    dict(temperature=0.0)])
def test_bad_settings_are_rejected_before_sampling(tiny_checkpoint, change):
    with pytest.raises(InvalidParameterError):
        generate(tiny_checkpoint, tiny_checkpoint.seed_steps(0), GenerationRequest(**change))


def test_a_model_with_parts_samples_a_part_for_every_step(tiny_parts):
    assert [p.name for p in tiny_parts.config.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    seed = tiny_parts.seed_steps(0)
    assert {s.part for s in seed} == {0, 1, 2, 3}  # seed windows keep their voices
    batch = generate(tiny_parts, seed, GenerationRequest(length=80, random_seed=4, variations=2))
    [single] = generate(tiny_parts, seed, GenerationRequest(length=80, random_seed=5))
    assert batch[1].steps == single.steps
    steps = batch[0].steps
    assert {s.part for s in steps} == {0, 1, 2, 3}
    assert any(s.shift == 0 for s in steps)  # parts sounding together at one onset
    assert {s.part for s in batch[0].seed} == {0, 1, 2, 3}


def test_every_part_stays_inside_the_range_it_sang_in_training(tiny_parts, chorale_pieces):
    from genre_lstm.training.corpus import pieces_onto_parts, pieces_to_part_ranges

    config = tiny_parts.config
    assert config.previous_in_part and len(config.part_ranges) == 4
    voices, _ = pieces_onto_parts(chorale_pieces, tiny_parts.parts)
    for (low, high), (lowest, highest) in zip(config.part_ranges, pieces_to_part_ranges(voices, 4)):
        assert lowest <= low < high <= highest  # each voice's range in the training pieces, all of them seen here
    # a hot temperature makes an untrained-sounding spread of pitches: the ranges still hold
    pieces = generate(tiny_parts, tiny_parts.seed_steps(0), GenerationRequest(length=200, random_seed=3,
                                                                               variations=2, temperature=2.0))
    for piece in pieces:
        for step in piece.steps:
            low, high = config.part_ranges[step.part]
            assert low <= min(step.pitches) and max(step.pitches) <= high
    soprano, bass = config.part_ranges[0], config.part_ranges[3]
    assert soprano[1] > bass[1] and soprano[0] > bass[0]


def test_a_single_line_model_hears_a_seed_of_parts_as_one_line(tiny_checkpoint, tiny_parts):
    from genre_lstm.music.events import merge_parts

    voices = tiny_parts.seed_steps(0)
    [merged] = generate(tiny_checkpoint, merge_parts(voices), GenerationRequest(length=10, random_seed=1))
    [piece] = generate(tiny_checkpoint, voices, GenerationRequest(length=10, random_seed=1))
    assert piece.steps == merged.steps and {s.part for s in piece.steps} == {0}


def _share_left_outside(checkpoint, field: str, outside) -> tuple[float, float]:
    """The share of what ``outside(piece)`` counts among everything it counts, in loosely sampled
    continuations of seed 0: with ``field`` off, then at its strongest (20)."""
    loose = GenerationRequest(length=150, random_seed=2, variations=4, temperature=1.5, **{field: 0})

    def share(request):
        counted = [flag for piece in generate(checkpoint, checkpoint.seed_steps(0), request) for flag in outside(piece)]
        return sum(counted) / len(counted)

    return share(loose), share(GenerationRequest(**{**loose.as_dict(), field: 20}))


def test_a_key_bias_keeps_the_continuation_to_the_seeds_pitch_classes(tiny_checkpoint):
    from genre_lstm.model.generate import seed_pitch_classes

    key = seed_pitch_classes(tiny_checkpoint.seed_steps(0))
    assert 5 <= len(key) <= 9  # a tune's scale, passing notes left out
    free, held = _share_left_outside(tiny_checkpoint, "key_bias",
                                     lambda piece: [p % 12 not in key for step in piece.steps for p in step.pitches])
    assert free > 0.02 and held < free / 4


def test_without_a_seed_each_variation_keeps_to_the_key_of_its_first_notes(tiny_checkpoint):
    from genre_lstm.model.generate import KEY_NOTES, pitches_to_key

    def outside_their_key(request):
        counted = []
        for piece in generate(tiny_checkpoint, [], request, opening=(0, (4, 4))):
            pitches = [p for step in piece.steps for p in step.pitches]
            key = pitches_to_key(pitches[:KEY_NOTES])
            counted += [p % 12 not in key for p in pitches[KEY_NOTES:]]
        return sum(counted) / len(counted)

    loose = GenerationRequest(length=150, random_seed=5, variations=4, temperature=1.5, key_bias=0)
    free, held = outside_their_key(loose), outside_their_key(GenerationRequest(**{**loose.as_dict(), "key_bias": 20}))
    assert free > 0.02 and held < free / 4


def test_the_seed_holds_key_and_register_of_pitched_parts_and_leaves_the_drums_alone(tiny_parts):
    import numpy as np

    from genre_lstm.model.generate import OUT_OF_REACH, SeedHold
    from genre_lstm.music.events import Step
    from genre_lstm.request import REGISTER_NOTES

    vocab = tiny_parts.vocab
    seed = [Step((60,), 1.0, 1.0), Step((64,), 1.0, 1.0), Step((67,), 1.0, 1.0, part=1), Step((37,), 1.0, 1.0, part=3)]
    every_part = np.arange(4)
    terms = SeedHold(vocab, seed, 4, {3}, 2.0, 0, count=4).token_terms(every_part)
    in_c = [i for i in range(2, len(vocab)) if {p % 12 for p in vocab.pitches_of(i)} <= {0, 4, 7}]
    assert terms.shape == (4, len(vocab)) and not terms[3].any()  # the drum hit is no pitch class
    assert (terms[:3, in_c] == 0).all() and set(terms[0]) == {0.0, -2.0}
    assert SeedHold(vocab, seed, 4, {3}, 0.0, 0, count=4).token_terms(every_part) is None

    hold = SeedHold(vocab, seed, 4, {3}, 0.0, 2, count=4)
    reach = hold.token_terms(every_part)
    for index in range(2, len(vocab)):
        pitches = vocab.pitches_of(index)
        assert (reach[0, index] == OUT_OF_REACH) == (min(pitches) < 58 or max(pitches) > 66)  # 60-64, 2 either side
        assert (reach[1, index] == OUT_OF_REACH) == (min(pitches) < 65 or max(pitches) > 69)
    assert not reach[2].any() and not reach[3].any()  # the tenor is not in the seed yet; the drums are never held
    tenor = [i for i in range(2, len(vocab)) if len(vocab.pitches_of(i)) == 1 and 50 <= vocab.pitches_of(i)[0] <= 52]
    for token in tenor * REGISTER_NOTES:  # the tenor's first notes, in variation 2 only
        hold.played(np.array([0, 0, 2, 0]), np.array([0, 0, token, 0]))
    tenors = hold.token_terms(np.full(4, 2))
    assert not tenors[0].any() and (tenors[2, tenor] == 0).all() and (tenors[2] == OUT_OF_REACH).sum() > 0


def test_a_grid_bias_keeps_every_onset_on_the_seeds_rhythmic_grid(tiny_checkpoint):
    from genre_lstm.model.generate import seed_beat_places
    from genre_lstm.music.events import GRID

    grid = seed_beat_places(tiny_checkpoint.seed_steps(0))
    assert 0 in grid and len(grid) < GRID  # a tune's eighths and sixteenths, not every twelfth
    free, held = _share_left_outside(tiny_checkpoint, "grid_bias",
                                     lambda piece: [step.position % GRID not in grid for step in piece.steps])
    assert free > 0.05 and held < free / 10


def test_the_grid_hold_scores_each_gap_by_where_it_lands_in_the_beat(tiny_parts):
    from genre_lstm.model.generate import GridHold, _Timeline, seed_beat_places
    from genre_lstm.music.events import Step

    vocab = tiny_parts.vocab
    sixteenths = [Step((60,), 0.25, 0.25, position=3 * k, meter=(4, 4)) for k in range(16)]
    assert seed_beat_places(sixteenths) == {0, 3, 6, 9}
    assert seed_beat_places([Step((60,), 0.25, 0.25)]) == set()  # bars not known: no grid
    terms = GridHold(vocab, sixteenths, grid_bias=3.0).shift_terms([_Timeline(0, (4, 4)), _Timeline(46, (4, 4))])
    for shift_class in range(vocab.n_shifts):
        units = round(vocab.class_to_shift(shift_class) * 12)
        assert terms[0, shift_class] == (0.0 if units % 3 == 0 else -3.0)
        assert terms[1, shift_class] == (0.0 if (46 + units) % 48 % 3 == 0 else -3.0)  # across the bar line
    assert GridHold(vocab, sixteenths, grid_bias=0.0).shift_terms([_Timeline(0, (4, 4))]) is None


def test_a_register_margin_keeps_every_part_near_its_seed_register(tiny_parts):
    seed = tiny_parts.seed_steps(0)
    ranges = {part: (min(p for s in seed if s.part == part for p in s.pitches),
                     max(p for s in seed if s.part == part for p in s.pitches)) for part in range(4)}
    request = GenerationRequest(length=120, random_seed=3, variations=2, temperature=2.0)
    free = generate(tiny_parts, seed, request)
    held = generate(tiny_parts, seed, GenerationRequest(**{**request.as_dict(), "register_margin": 1}))

    def beyond(pieces):
        return sum(min(s.pitches) < ranges[s.part][0] - 1 or max(s.pitches) > ranges[s.part][1] + 1
                   for piece in pieces for s in piece.steps)

    assert beyond(free) > 0 and beyond(held) == 0
