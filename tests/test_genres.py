"""The shipped genre checkpoints: present, loadable, able to generate, documented, within budget."""

import json

import pytest
import yaml

from genre_lstm.model.generate import generate
from genre_lstm.request import GenerationRequest
from genre_lstm.store.genres import GENRES, checkpoints_root
from genre_lstm.store.hub import get_checkpoint

SHIPPED = sorted(GENRES)
BUDGET_BYTES = 40_000_000  # issue 17: every shipped checkpoint together


def test_every_genre_ships_a_checkpoint():
    assert sorted(p.name for p in checkpoints_root().iterdir() if p.is_dir()) == SHIPPED


@pytest.mark.parametrize("genre", SHIPPED)
def test_each_checkpoint_loads_and_generates_50_steps(genre):
    checkpoint = get_checkpoint(genre)
    [piece] = generate(checkpoint, checkpoint.seed_steps(0), GenerationRequest(length=50, random_seed=1))
    assert len(piece.steps) == 50
    assert checkpoint.config.has_rhythm and len(checkpoint.seeds) >= 8


@pytest.mark.parametrize("genre", SHIPPED)
def test_each_checkpoint_plays_with_its_genre_defaults(genre):
    defaults, registered = get_checkpoint(genre).defaults, GENRES[genre]
    assert (defaults.temperature, defaults.tempo_bpm, defaults.program, defaults.key_bias, defaults.register_margin,
            defaults.grid_bias) == (registered.temperature, registered.tempo_bpm, registered.program,
                                    registered.key_bias, registered.register_margin, registered.grid_bias)


@pytest.mark.parametrize("genre", SHIPPED)
def test_model_card_has_hub_metadata_and_the_figures(genre):
    card = (checkpoints_root() / genre / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert {"library_name", "license", "tags", "datasets", "metrics"} <= set(front)
    assert front["license"] == GENRES[genre].licence
    for fact in ("Pieces:", "Vocabulary:", "Parameters:", "held-out", "min on",
                 f"temperature {GENRES[genre].temperature:g}"):
        assert fact in card


def test_shipped_checkpoints_fit_the_size_budget():
    total = sum(p.stat().st_size for p in checkpoints_root().rglob("*") if p.is_file() and ".training" not in p.parts)
    assert total <= BUDGET_BYTES, f"{total / 1e6:.1f} MB"


def test_seed_windows_are_held_out_pieces():
    for genre in SHIPPED:
        ours = json.loads((checkpoints_root() / genre / "genre_lstm.json").read_text())
        held_out = set(ours["info"]["training"]["held_out_pieces"]["test"])
        seeds = json.loads((checkpoints_root() / genre / "seeds.json").read_text())["seeds"]
        assert seeds and {s["piece"] for s in seeds} <= held_out


@pytest.mark.parametrize("genre", [g for g in SHIPPED if GENRES[g].train.get("model", {}).get("pitch_features")])
def test_pitch_feature_genres_ship_the_pitch_tables_of_their_vocabulary(genre):
    import numpy as np

    from genre_lstm.model.layers import pitch_feature_table

    checkpoint = get_checkpoint(genre)
    assert checkpoint.config.pitch_features
    expected = pitch_feature_table([checkpoint.vocab.pitches_of(i) for i in range(len(checkpoint.vocab))],
                                   top_line=checkpoint.config.top_line_features)
    assert np.array_equal(checkpoint.model.get_layer("token_pitches").get_weights()[0], expected)
    assert np.array_equal(checkpoint.model.get_layer("pitch_scores").get_weights()[0], expected.T)


def test_a_card_states_the_checkpoints_licence_and_the_musics_terms():
    from genre_lstm.store.card import Licensing, model_card

    licensing = Licensing("gpl-2.0", "GPL version 2 only (OpenMSX)", ("debian-openttd-openmsx",))
    card = model_card(title="t", summary="s", info={"source": "OpenMSX"}, config={"preset": "default"},
                      vocab_size=10, parameters=1, weights_bytes=1, hardware="h", licensing=licensing)
    front = yaml.safe_load(card.split("---")[1])
    assert front["license"] == "gpl-2.0" and front["datasets"] == ["debian-openttd-openmsx"]
    assert "- Licence: this checkpoint `gpl-2.0`; the music it learned from: GPL version 2 only (OpenMSX)" in card
    unknown = model_card(title="t", summary="s", info={}, config={}, vocab_size=10, parameters=1, weights_bytes=1,
                         hardware="h")
    assert "license: mit" in unknown and "Licence:" not in unknown  # a user's own files: terms not known


def test_rock_metal_pieces_have_drums_on_channel_10_a_bass_and_an_overdriven_guitar_in_range(tmp_path):
    import mido

    from genre_lstm.music.events import program_to_role
    from genre_lstm.pipeline import make_music

    checkpoint = get_checkpoint("rock-metal")
    roles = [part.role for part in checkpoint.parts]
    assert {"drums", "bass", "guitar"} <= set(roles)
    outputs = [output for seed in range(4)  # a drum solo, a riff without drums, ...: the first four seed windows
               for output in make_music(checkpoint, checkpoint.seed_steps(seed),
                                        GenerationRequest(length=400, variations=2, random_seed=3),
                                        tmp_path / str(seed), audio=False)]
    complete = 0
    for output in outputs:
        sounding = {}  # (channel, program) -> pitches, as the written file plays them
        for track in mido.MidiFile(output.midi).tracks:
            program = 0
            for message in track:
                if message.type == "program_change":
                    program = message.program
                elif message.type == "note_on" and message.velocity:
                    sounding.setdefault((message.channel, program), []).append(message.note)
        drums = any(channel == 9 for channel, _ in sounding)  # drums on channel 10
        bass = any(channel != 9 and program_to_role(program) == "bass" for channel, program in sounding)
        guitar = any(channel != 9 and program in (29, 30) for channel, program in sounding)  # overdriven, distortion
        complete += drums and bass and guitar
        for step in output.steps:  # every part inside the range it played in training
            low, high = checkpoint.config.part_ranges[step.part]
            assert low <= min(step.pitches) and max(step.pitches) <= high
    assert complete >= 5  # 13 of 16 pieces of 400 steps had all three (seed windows 0-7, two variations each)


def test_a_quartet_piece_is_four_tracks_violin_violin_viola_cello_each_in_range(tmp_path):
    import mido

    from genre_lstm.pipeline import make_music

    checkpoint = get_checkpoint("classical-quartet")
    [output] = make_music(checkpoint, checkpoint.seed_steps(0), GenerationRequest(length=300, random_seed=5),
                          tmp_path, audio=False)
    programs = [[m.program for m in track if m.type == "program_change"] for track in mido.MidiFile(output.midi).tracks]
    assert [p for p in programs if p] == [[40], [40], [41], [42]]  # General MIDI violin, violin, viola, cello
    assert {step.part for step in output.steps} == {0, 1, 2, 3}
    for step in output.steps:
        low, high = checkpoint.config.part_ranges[step.part]
        assert low <= min(step.pitches) and max(step.pitches) <= high
