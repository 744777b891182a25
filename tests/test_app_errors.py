"""Every failure a user can cause through the app's API gets our own readable message, and the next
request still succeeds: wrong types, NaN, probing paths, broken zips, an unreachable hub."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import zipfile

import pytest
from gradio_client import handle_file

from genre_lstm.music.midi_io import midi_file_to_steps, steps_to_midi_file


def _message(call) -> str:
    with pytest.raises(Exception) as caught:
        call()
    return str(caught.value)


def _raw_generate(server: str, **values) -> str:
    """/generate over plain HTTP (see _raw_call)."""
    from genre_lstm.request import FIELDS

    defaults = {"genre": "irish-fiddle", "seed_file": None, "seed_choice": None, "new_seed": False,
                **{f.name: f.default for f in FIELDS}, "length": 8}
    return _raw_call(server, "generate", [values.get(name, default) for name, default in defaults.items()])


def _raw_call(server: str, api_name: str, data: list) -> str:
    """Call an endpoint over plain HTTP, as any script can (NaN and Infinity included, which
    gradio_client refuses to send); the error message the server streams back, or "" on success."""
    import json
    import urllib.request

    base = server.rstrip("/") + f"/gradio_api/call/{api_name}"
    post = urllib.request.Request(base, data=json.dumps({"data": data}).encode(),
                                  headers={"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(post, timeout=30).read())["event_id"]
    stream = urllib.request.urlopen(f"{base}/{event}", timeout=120).read().decode()
    if "event: error" not in stream:
        return ""
    return stream.split("event: error", 1)[1].split("data:", 1)[1].strip()


@pytest.mark.parametrize("field", ["length", "seed_length", "top_k", "transpose", "variations", "random_seed",
                                   "temperature", "key_bias", "register_margin", "grid_bias", "tempo",
                                   "offset_min"])
@pytest.mark.parametrize("value", [math.nan, math.inf, "lots", [3], {"a": 1}, True])
def test_generate_refuses_values_of_the_wrong_kind_with_our_message(server, field, value):
    message = _raw_generate(server, **{field: value})
    assert f"{field.replace('_', ' ')} must be" in message, message


def test_a_genre_that_is_not_one_of_the_list_is_refused_and_the_server_keeps_serving(client):
    for genre in (5, None, "/", "../checkpoints/irish-fiddle", "owner/name"):
        if genre is None:
            continue  # None means the default genre
        assert "unknown genre" in _message(lambda: client.predict(genre=genre, length=8, api_name="/generate"))
    result = client.predict(length=8, api_name="/generate")
    assert len(midi_file_to_steps([f for f in result[2] if str(f).endswith(".mid")][0])) == 8


@pytest.mark.parametrize("probe", ["/", "/root/.ssh", "/nonexistent", "owner/name", "mine:../../etc"])
def test_measure_takes_a_genre_of_the_list_only(client, probe):
    message = _message(lambda: client.predict(probe, api_name="/measure"))
    assert ("unknown genre" in message or "not available in this session" in message), message


def test_a_request_too_long_to_render_is_refused_at_once(client):
    began = time.perf_counter()
    message = _message(lambda: client.predict(genre="renaissance-polyphony", length=2000, tempo=20,
                                              api_name="/generate"))
    assert "the limit is 15: ask for at most" in message
    assert time.perf_counter() - began < 10  # refused before sampling and rendering


@pytest.mark.parametrize("minutes", [math.nan, math.inf, "soon", -1, 10_000])
def test_training_refuses_a_bad_time_budget(server, minutes):
    message = _raw_call(server, "train", [[], "my-genre", "small", minutes, "none"])
    assert "minutes must be" in message, message


def test_training_refuses_a_name_or_size_of_the_wrong_kind(client):
    assert "name your genre" in _message(lambda: client.predict(files=[], name="no spaces!", api_name="/train"))
    assert "size must be one of" in _message(lambda: client.predict(files=[], name="x", size="huge",
                                                                     api_name="/train"))


def test_a_zip_with_a_damaged_member_is_reported_not_a_bare_error(client, irish_pieces, tmp_path):
    good = [steps_to_midi_file(p.steps, tmp_path / f"tune{i}.mid") for i, p in enumerate(irish_pieces[:2])]
    archive = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in good:
            bundle.write(path, path.name)
        bundle.writestr("broken.mid", good[0].read_bytes() * 3)
    data = bytearray(archive.read_bytes())
    at = data.find(b"broken.mid") + len(b"broken.mid") + 40  # inside the last member's compressed data
    data[at] ^= 0xFF
    archive.write_bytes(bytes(data))
    message = _message(lambda: client.predict(files=[handle_file(str(archive))], name="damaged", api_name="/train"))
    assert "too little music to train" in message and "damaged in the zip" in message, message


def test_two_copies_of_a_file_count_once(client, irish_pieces, tmp_path):
    one = steps_to_midi_file(irish_pieces[0].steps, tmp_path / "a.mid")
    two = steps_to_midi_file(irish_pieces[0].steps, tmp_path / "b.mid")
    three = steps_to_midi_file(irish_pieces[0].steps, tmp_path / "c.mid")
    message = _message(lambda: client.predict(files=[handle_file(str(p)) for p in (one, two, three)], name="same",
                                              api_name="/train"))
    assert "too little music to train: 1 distinct piece with" in message, message


def test_pushing_to_an_unreachable_hub_is_one_line(tiny_checkpoint_dir):
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_TOKEN": "hf_not_a_token"}
    done = subprocess.run([sys.executable, "-m", "genre_lstm.cli", "push", "--checkpoint", str(tiny_checkpoint_dir),
                           "--repo", "someone/tiny"], env=env, capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "cannot upload to someone/tiny" in lines[0], done.stderr
