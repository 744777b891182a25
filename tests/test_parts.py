"""Parts: every step belongs to a part; pieces keep their parts from file to model to file."""

import mido
from conftest import band_midi, corpus_file

from genre_lstm.music.events import (
    Music,
    Part,
    Step,
    map_parts,
    merge_parts,
    music_onto_parts,
    regroup_steps,
    steps_duration_quarters,
)
from genre_lstm.music.midi_io import (
    midi_file_to_music,
    midi_file_to_steps,
    music_file_to_steps,
    score_file_to_music,
    steps_to_events,
    steps_to_midi_file,
)
from genre_lstm.training.corpus import Piece, ensemble_of, pieces_onto_parts, pieces_to_part_ranges

QUARTET = (Part("Violin I", 40), Part("Violin II", 40), Part("Viola", 41), Part("Cello", 42))


def test_a_chorale_is_read_as_four_voices_whose_merge_is_the_single_line(chorale_path):
    music = score_file_to_music(chorale_path)[0]
    assert [p.name for p in music.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert all(p.role == "ensemble" for p in music.parts)  # voices sing as General MIDI's choir
    assert max(len(s.pitches) for s in music.steps) == 1  # each voice sings one note at a time
    assert {s.shift for s in music.steps[:3]} == {0.0}  # the voices of one onset follow each other
    assert merge_parts(music.steps) == music_file_to_steps(chorale_path)


def test_a_quartet_keeps_its_four_instruments():
    music = score_file_to_music(corpus_file("haydn/opus74no1/movement1.mxl"))[0]
    assert map_parts(music.parts, QUARTET) == [0, 1, 2, 3]  # 'Violin 1' is 'Violin I', 'Violoncello' 'Cello'
    cello = music.part_steps(3)
    assert min(p for s in cello for p in s.pitches) >= 36  # the cello's C string


def test_a_band_file_keeps_melody_bass_and_drums_each_on_its_channel(tmp_path):
    music = midi_file_to_music(band_midi(tmp_path / "band.mid"))
    assert [(p.name, p.role) for p in music.parts] == [("Lead", "pipe"), ("Electric Bass (finger)", "bass"),
                                                       ("Drums", "drums")]
    written = steps_to_midi_file(music.steps, tmp_path / "out.mid", parts=music.parts)
    tracks = mido.MidiFile(written).tracks
    assert len(tracks) == 3
    programs = [[(m.channel, m.program) for m in track if m.type == "program_change"] for track in tracks]
    assert programs == [[(0, 73)], [(1, 33)], [(9, 0)]]  # drums on General MIDI channel 10
    again = midi_file_to_music(written)
    assert again.steps == music.steps and [p.role for p in again.parts] == [p.role for p in music.parts]
    assert midi_file_to_steps(written) == midi_file_to_steps(tmp_path / "band.mid")  # one line: drums dropped


def test_events_of_parts_play_each_part_on_its_channel(tmp_path):
    music = midi_file_to_music(band_midi(tmp_path / "band.mid"))
    events = steps_to_events(music.steps, tempo_bpm=120, parts=music.parts)
    assert {(e[2], e[3]) for e in events if e[1] == "program_change"} == {(0, 73), (1, 33), (9, 0)}
    assert {e[3] for e in events if e[1] == "note_on" and e[2] == 9} == {36, 38, 42}


def test_a_seed_is_mapped_by_role_and_says_what_it_dropped(tmp_path):
    music = midi_file_to_music(band_midi(tmp_path / "band.mid"))
    combo = (Part("Guitar", 27), Part("Bass", 34), Part("Kit", 0, True))
    mapped, dropped = music_onto_parts(music, combo)
    assert sorted({s.part for s in mapped.steps}) == [0, 1, 2]  # lead -> guitar (free), bass -> bass, drums -> kit
    assert dropped == []
    kit = [s for s in mapped.steps if s.part == 2]
    assert all(len(s.pitches) == 1 for s in kit)  # each drum hit a step of its own, a kit's keys combine freely
    hits = sorted(p for s in music.steps if music.parts[s.part].is_drums for p in s.pitches)
    assert sorted(s.pitches[0] for s in kit) == hits
    assert steps_duration_quarters(mapped.steps) == steps_duration_quarters(music.steps)  # nothing moved in time
    mapped, dropped = music_onto_parts(music, QUARTET)
    assert [p.name for p in dropped] == ["Drums"] and {s.part for s in mapped.steps} == {0, 1}
    solo, dropped = music_onto_parts(music, (Part("melody", 40),))
    assert solo.steps == midi_file_to_steps(tmp_path / "band.mid") and [p.name for p in dropped] == ["Drums"]


def test_regrouping_joins_steps_of_one_part_at_one_onset_and_keeps_the_length():
    steps = [Step((60,), 1.0, 0.0, part=0), Step((64,), 2.0, 1.0, part=1), Step((62,), 1.0, 1.0, part=0)]
    assert regroup_steps(steps, [0, 0, 0]) == [Step((60, 64), 2.0, 1.0), Step((62,), 1.0, 1.0)]
    assert regroup_steps(steps, [None, 1, 0]) == [Step((64,), 2.0, 1.0, part=1), Step((62,), 1.0, 1.0)]


def test_a_collection_of_band_files_is_learned_as_its_roles(tmp_path):
    band = midi_file_to_music(band_midi(tmp_path / "band.mid"))
    duo = Music(band.steps[:4], (Part("Gtr", 25), Part("Bass 2", 34)))
    pieces = [Piece("band", band.steps, band.parts), Piece("duo", duo.steps, duo.parts)]
    ensemble = ensemble_of(pieces, 8)
    assert [(p.role, p.is_drums) for p in ensemble] == [("guitar", False), ("bass", False), ("pipe", False),
                                                       ("drums", True)]
    assert [p.role for p in ensemble_of(pieces, 2)] == ["bass", "drums"]  # the roles most pieces have
    mapped, dropped = pieces_onto_parts(pieces, ensemble_of(pieces, 2))
    assert dropped == {"Lead": 1, "Gtr": 1} and len(mapped) == 2


def test_chorale_instruments_are_dropped_and_voices_kept(chorale_pieces):
    voices = tuple(Part(name, 52) for name in ("Soprano", "Alto", "Tenor", "Bass"))
    mapped, dropped = pieces_onto_parts(chorale_pieces, voices)
    assert len(mapped) == len(chorale_pieces) and "Soprano" not in dropped
    assert all({s.part for s in piece.steps} == {0, 1, 2, 3} for piece in mapped)


def test_the_piano_roll_draws_each_part_in_its_colour(tmp_path):
    import numpy as np
    from PIL import Image

    from genre_lstm.music.pianoroll import DRUM_COLOUR, part_colour, steps_to_pianoroll_png

    music = midi_file_to_music(band_midi(tmp_path / "band.mid"))
    picture = np.asarray(Image.open(steps_to_pianoroll_png(music.steps, tmp_path / "roll.png", parts=music.parts)))
    colours = {tuple(pixel) for pixel in picture.reshape(-1, 3)}
    assert {part_colour(0), part_colour(1), DRUM_COLOUR} <= colours


def test_a_drums_only_seed_is_refused_by_a_model_of_one_line(tiny_checkpoint, tmp_path):
    import pytest

    from genre_lstm.errors import MusicReadError

    music = midi_file_to_music(band_midi(tmp_path / "band.mid"))
    drums = Music(regroup_steps(music.steps, [0 if s.part == 2 else None for s in music.steps]), (music.parts[2],))
    with pytest.raises(MusicReadError, match="has only Drums"):
        tiny_checkpoint.seed_in_parts(drums)


def test_part_names_match_however_the_score_spells_them():
    spellings = (Part("1st Violin", 48), Part("2nd Violin", 48), Part("Viola.", 48), Part("Violoncello.", 48))
    assert map_parts(spellings, QUARTET, fill=False) == [0, 1, 2, 3]


def test_figures_per_part_say_where_each_part_sings_and_how_it_moves(tiny_parts, chorale_pieces):
    from genre_lstm.evaluation.metrics import PitchSetBackoff, part_figures, score_model, unrepresentable_share

    voices, _ = pieces_onto_parts(chorale_pieces, tiny_parts.parts)
    ranges = pieces_to_part_ranges(voices, 4)
    assert ranges[0][0] > ranges[3][0] and ranges[0][1] > ranges[3][1]  # the soprano sings above the bass
    real = part_figures([piece.steps for piece in voices], ranges)
    assert all(figure["in_range"] == 1.0 for figure in real)  # the real voices define their ranges
    assert all(0.2 < figure["steps"] < 0.3 for figure in real)  # four voices, about a quarter of the steps each
    assert real[0]["steps_1_2"] > real[3]["steps_1_2"]  # the melody moves by step more than the bass
    assert unrepresentable_share(voices, tiny_parts.vocab) < 0.03
    likelihood = score_model(tiny_parts, voices[:2], PitchSetBackoff(voices))
    assert likelihood.part is not None and 0 < likelihood.part < 2  # four parts: at most ln 4 = 1.39 nats untrained


def test_a_second_voice_of_one_name_sings_the_second_part_of_that_name():
    voices = tuple(Part(name, 52) for name in ("Soprano", "Soprano 2", "Alto", "Alto 2", "Tenor", "Tenor 2", "Bass"))
    score = tuple(Part(name, 52) for name in ("Soprano", "Alto", "Tenor", "Tenor", "Bass"))
    assert [voices[i].name for i in map_parts(score, voices, fill=False)] == ["Soprano", "Alto", "Tenor", "Tenor 2",
                                                                             "Bass"]


def test_an_uploaded_seed_says_what_the_model_leaves_out(tiny_checkpoint_dir, tiny_parts_dir, tmp_path):
    """A band seed: a model of one line merges its pitched parts and drops its drums (said as main
    said it); a model with parts maps them by role and names the parts it had no place for."""
    from genre_lstm.app import service

    band = band_midi(tmp_path / "band.mid")
    notes = {}
    for name, folder in (("solo", tiny_checkpoint_dir), ("choir", tiny_parts_dir)):
        (tmp_path / name).mkdir()
        result = list(service.run(str(folder), service.request_from_form(length=16), tmp_path / name,
                                  seed_file=str(band)))[-1]
        notes[name] = result.figures["seed_note"]
        assert all(roll.is_file() for roll in result.pianorolls)
    assert notes["solo"] == ("your seed was read as one part: band.mid: its 2 pitched parts merged into one "
                             "instrument and 8 drum notes dropped")
    assert notes["choir"].startswith("the seed's Drums (drums) dropped")


def test_the_train_tab_says_which_parts_an_upload_loses(tmp_path):
    """Uploads learn up to UPLOAD_PARTS parts by role, so a band loses nothing; fine-tuning a genre
    of one line reads each file as one part, and says so."""
    from genre_lstm.app.jobs import _parts_left_out
    from genre_lstm.training.corpus import read_pieces

    files = [band_midi(tmp_path / "band.mid")]
    pieces = read_pieces(files, root=tmp_path).pieces
    assert _parts_left_out(files, pieces, None) == []
    assert _parts_left_out(files, pieces, "irish-fiddle") == [
        "read as one part: band.mid: its 2 pitched parts merged into one instrument and 8 drum notes dropped"]


def test_a_shipped_single_line_checkpoint_of_a_genre_with_parts_is_described_as_one_line():
    from genre_lstm.store.genres import GENRES, representation_note

    voices = [Part(name, 52) for name in ("Soprano", "Alto", "Tenor", "Bass")]
    assert representation_note(GENRES["baroque-chorale"], parts=voices).startswith("- Parts: Soprano, Alto, Tenor, Bass")
    assert representation_note(GENRES["baroque-chorale"], parts=[]).startswith("- Reduction: all parts")
    from dataclasses import replace

    band = [Part("guitar", 29), Part("bass", 34), Part("drums", 0, True)]
    of_midi_files = replace(GENRES["baroque-chorale"], train={"max_parts": 3})  # parts by role, not by name
    assert "General MIDI roles most of the files have" in representation_note(of_midi_files, parts=band)
