"""The app for real: launched on 127.0.0.1, called with gradio_client, driven in Debian's Chromium."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile
from conftest import loudness_curve, write_midi
from gradio_client import handle_file

from genre_lstm.music.midi_io import midi_file_text, midi_file_to_music, midi_file_to_steps
from genre_lstm.music.render import wav_stats


@pytest.fixture(scope="module")
def seed_midi(tmp_path_factory):
    notes = []
    for pitch in (62, 64, 66, 67, 69, 71, 73, 74):
        notes += [mido.Message("note_on", note=pitch, velocity=80, time=0), mido.Message("note_off", note=pitch, time=240)]
    return write_midi(tmp_path_factory.mktemp("seed") / "seed.mid", [notes])


def _files(result):
    """(WAVs, MIDIs) from the generate endpoint's every-file output."""
    files = [str(f) for f in result[2]]
    return [f for f in files if f.endswith(".wav")], [f for f in files if f.endswith(".mid")]


def _wavs(client, result):
    """The WAV button of a result: its downloads once every variation's WAV is rendered."""
    return client.predict([handle_file(f) for f in _files(result)[1]], api_name="/wav")


def _genres():
    from genre_lstm.app.service import installed_genres

    return [g.id for g in installed_genres()]


def test_a_call_with_every_parameter_left_at_its_default_returns_midi_then_its_wav_when_asked(client):
    result = client.predict(api_name="/generate")
    [], [midi] = _files(result)  # the WAV is made only when it is asked for
    assert "Random seed 0" in result[0]
    assert len(midi_file_to_steps(midi)) == 500
    [wav] = [f for f in map(str, _wavs(client, result)) if f.endswith(".wav")]
    seconds, level = wav_stats(wav)
    assert level > -40 and seconds > 30
    assert Path(wav).stem == Path(midi).stem


def test_the_wav_button_without_a_result_says_so(client):
    with pytest.raises(Exception, match="no MIDI file to render"):
        client.predict([], api_name="/wav")


@pytest.mark.parametrize("use_upload", [True, False])
def test_two_genres_with_an_uploaded_and_a_picked_seed(client, seed_midi, use_upload):
    genres = _genres()
    assert len(genres) >= 2, "needs two shipped genres"
    from genre_lstm.app.service import seed_choices
    from genre_lstm.store.genres import get_genre

    for genre in genres[:2]:
        seed = (dict(seed_file=handle_file(str(seed_midi))) if use_upload
                else dict(seed_choice=seed_choices(get_genre(genre).local_dir())[2]))
        result = client.predict(genre=genre, length=48, random_seed=7, variations=2, api_name="/generate", **seed)
        wavs, midis = _files(result)
        assert len(wavs) == 0 and len(midis) == 2
        assert len(midi_file_to_music(midis[0]).steps) == 48  # a genre with parts: 48 steps of its parts
        assert midi_file_text(midis[0])["checkpoint"] == genre
        assert "seed 8: 48 steps" in result[0]  # the second variation reports its own seed


def test_bad_upload_gives_a_readable_error_and_the_server_keeps_serving(client, tmp_path):
    fake = tmp_path / "song.mid"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a MIDI file")
    with pytest.raises(Exception, match="not a MIDI file"):
        client.predict(seed_file=handle_file(str(fake)), length=16, api_name="/generate")
    with pytest.raises(Exception, match="temperature must be a number from 0.05 to 5"):
        client.predict(temperature=50.0, length=16, api_name="/generate")
    result = client.predict(length=16, api_name="/generate")
    assert len(midi_file_to_steps(_files(result)[1][0])) == 16


def test_request_folders_are_removed(client):
    import tempfile

    def ours():
        return sorted(p.name for p in Path(tempfile.gettempdir()).glob("genre-lstm-request-*"))

    before = ours()
    for seed in range(3):
        client.predict(length=16, random_seed=seed, api_name="/generate")
    assert ours() == before


def test_in_the_browser_generate_listen_download_and_compare(server, chromium, screenshots, seed_midi, tmp_path):
    page = chromium.new_page(viewport={"width": 1400, "height": 1800})
    try:
        page.goto(server, wait_until="load")
        page.locator("#generate").wait_for(timeout=60_000)
        page.locator("#genre input").first.click()
        page.get_by_role("option", name=re.compile("^Irish fiddle")).click()
        page.locator("#seed-file input[type=file]").set_input_files(str(seed_midi))
        page.locator("#length input[type=number]").fill("64")
        page.locator("#length input[type=number]").press("Enter")
        page.locator("#generate").click()
        page.locator("#audio-0 audio, #audio-0 button").first.wait_for(timeout=120_000)
        page.wait_for_selector("#figures :text('Random seed')", timeout=120_000)
        page.screenshot(path=str(screenshots / "generate.png"), full_page=True)
        assert not page.locator("#zip").is_visible()  # one variation: no zip
        ogg_link = page.locator("#audio-0 a.player-download")
        ogg_link.wait_for(timeout=30_000)  # offered once the stream is complete
        assert ogg_link.get_attribute("download").endswith(".ogg")
        assert page.locator("#downloads a[href*='.wav']").count() == 0  # rendered only when asked for
        page.locator("#render-wav").click()
        page.locator("#downloads a[href*='.wav']").first.wait_for(timeout=60_000)

        def download(href: str, name: str) -> Path:
            url = href if href.startswith("http") else server.rstrip("/") + "/" + href.lstrip("/")
            (tmp_path / name).write_bytes(urllib.request.urlopen(url, timeout=30).read())
            return tmp_path / name

        links = page.locator("#downloads a[href]")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        by_suffix = {Path(href.split("?")[0]).suffix: href for href in hrefs}
        midi, wav = download(by_suffix[".mid"], "downloaded.mid"), download(by_suffix[".wav"], "downloaded.wav")
        ogg = download(ogg_link.get_attribute("href"), "heard.ogg")
        assert len(midi_file_to_steps(midi)) == 64
        assert midi_file_text(midi)["checkpoint"] == "irish-fiddle"
        assert wav_stats(wav)[1] > -40
        heard, rate = soundfile.read(str(ogg), dtype="int16")  # what the player played, made while sampling
        soundfile.write(str(tmp_path / "heard.wav"), heard, rate, subtype="PCM_16")
        heard_curve, downloaded = loudness_curve(tmp_path / "heard.wav"), loudness_curve(wav)
        assert len(heard_curve) == len(downloaded)
        assert np.corrcoef(heard_curve, downloaded)[0, 1] > 0.99  # the WAV (made from the MIDI) is what was heard

        page.get_by_role("tab", name="Compare with Jukebox and GANSynth").first.click()
        facts = page.locator("#facts table")
        facts.wait_for()
        rows = facts.locator("tbody tr")
        assert rows.count() >= 8
        assert facts.locator("a[href*='arxiv.org/abs/2005.00341']").count() >= 1
        assert facts.locator("a[href*='arxiv.org/abs/1902.08710']").count() >= 1
        page.locator("#measure").click()
        page.wait_for_selector("#live-figures :text('seconds per minute of music')", timeout=120_000)
        live = page.locator("#live-figures").inner_text()
        value = [line for line in live.splitlines() if "seconds per minute of music" in line][0]
        assert float(value.split()[-1]) > 0
        page.screenshot(path=str(screenshots / "compare.png"), full_page=True)
    finally:
        page.close()


def test_in_the_browser_a_bad_upload_shows_an_error_then_a_good_request_works(server, chromium, screenshots, tmp_path):
    fake = tmp_path / "picture.mid"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n not a midi")
    page = chromium.new_page(viewport={"width": 1400, "height": 1400})
    try:
        page.goto(server, wait_until="load")
        page.locator("#generate").wait_for(timeout=60_000)
        page.locator("#length input[type=number]").fill("16")
        page.locator("#length input[type=number]").press("Enter")
        page.locator("#seed-file input[type=file]").set_input_files(str(fake))
        page.locator("#generate").click()
        page.get_by_text("not a MIDI file").first.wait_for(timeout=60_000)
        page.screenshot(path=str(screenshots / "error.png"), full_page=True)
        page.locator("#seed-file button[aria-label*='Clear'], #seed-file button[aria-label*='clear']").first.click()
        page.locator("#generate").click()
        page.wait_for_selector("#figures :text('16 steps')", timeout=120_000)
    finally:
        page.close()


def _request_folders() -> set[str]:
    import glob
    import os
    import tempfile

    return set(glob.glob(os.path.join(tempfile.gettempdir(), "genre-lstm-request-*")))


def test_cancel_stops_the_work_and_removes_its_files(client):
    import time

    client.predict(genre="irish-fiddle", length=16, api_name="/generate")  # the model is loaded, as on a live server
    before = _request_folders()
    job = client.submit(genre="irish-fiddle", length=1000, variations=4, api_name="/generate")
    time.sleep(2)
    assert _request_folders() - before, "the request should be running"
    job.cancel()
    began = time.process_time()  # the server runs in this process
    time.sleep(5)
    assert time.process_time() - began < 1.0
    assert not _request_folders() - before


# Taps the first player's output while it plays: RMS of 300 ms of what the page hears, and whether
# the result (the figures) was shown yet at that moment.
LISTEN_TO_PLAYER = """
async () => {
  const audio = document.querySelector('#audio-0 audio');
  const context = new AudioContext();
  const source = context.createMediaElementSource(audio);
  const analyser = context.createAnalyser();
  source.connect(analyser);
  analyser.connect(context.destination);
  const samples = new Float32Array(analyser.fftSize);
  let loudest = 0;
  for (let i = 0; i < 15; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    analyser.getFloatTimeDomainData(samples);
    loudest = Math.max(loudest, Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / samples.length));
  }
  const done = /Random seed/.test(document.querySelector('#figures').innerText);
  return {rms: loudest, done: done, src: audio.currentSrc, time: audio.currentTime, state: context.state};
}
"""


def test_in_the_browser_the_music_plays_before_the_generation_has_finished(server, chromium, screenshots):
    page = chromium.new_page(viewport={"width": 1400, "height": 1800})
    try:
        page.goto(server, wait_until="load")
        page.locator("#generate").wait_for(timeout=60_000)
        page.locator("#length input[type=number]").fill("1500")  # about 7 minutes of Irish fiddle: seconds of work
        page.locator("#length input[type=number]").press("Enter")
        page.locator("#generate").click()
        page.wait_for_function("() => { const a = document.querySelector('#audio-0 audio');"
                               " return a && !a.paused && a.currentTime > 0; }", timeout=120_000)
        heard = page.evaluate(LISTEN_TO_PLAYER)
        assert heard["state"] == "running" and "listen/" in heard["src"]
        assert not heard["done"], "the generation had finished before the player was heard"
        assert heard["rms"] > 0.01, heard  # non-silent samples while the piece is still being made
        page.wait_for_selector("#figures :text('Random seed')", timeout=300_000)
        page.wait_for_function("() => isFinite(document.querySelector('#audio-0 audio').duration)", timeout=60_000)
        page.screenshot(path=str(screenshots / "listening.png"), full_page=True)
        duration = page.evaluate("() => document.querySelector('#audio-0 audio').duration")
        assert duration > 360  # the whole piece, seekable, once complete
        stream = page.evaluate("() => document.querySelector('#audio-0 audio').currentSrc")
        assert urllib.request.urlopen(stream, timeout=30).read(4) == b"OggS"
        assert page.locator("#roll-0 img").count() == 1
    finally:
        page.close()


def test_the_stream_route_refuses_names_it_never_gave(server):
    import urllib.error

    for name in ("nothing.ogg", "..%2F..%2Fapp.py"):
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(server + "listen/" + name, timeout=10)
