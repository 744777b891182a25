"""The player's audio: levelled once, encoded while it is rendered, served while it grows."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import soundfile
from conftest import loudness_curve

from genre_lstm.app.listen import StreamStore, follow, respond
from genre_lstm.errors import RenderError
from genre_lstm.music.events import Step
from genre_lstm.music.render import SAMPLE_RATE, StepsRenderer
from genre_lstm.music.stream import PEAK_DBFS, GrowingFile, PieceAudio


def _run(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API keeps a loop running in this one."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _tone(seconds: float, level: float, pitch_hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    mono = (level * 32767 * np.sin(2 * np.pi * pitch_hz * t)).astype(np.int16)
    return np.stack([mono, mono], axis=1)


def test_audio_fed_in_pieces_is_levelled_as_if_fed_whole_and_louder_passages_are_limited():
    raw = np.concatenate([_tone(12, 0.1), _tone(5, 0.4), _tone(2, 0.1)])  # later 4x louder than the opening
    whole = PieceAudio(SAMPLE_RATE)
    whole.end_at(len(raw))
    whole.feed(raw)
    pieces = PieceAudio(SAMPLE_RATE)
    pieces.end_at(len(raw))
    for start in range(0, len(raw), 7919):
        pieces.feed(raw[start:start + 7919])
    a, b = whole.finish(), pieces.finish()
    assert np.array_equal(a, b)
    assert np.abs(a).max() <= 32767 and np.abs(a).max() > 32767 * 10 ** (PEAK_DBFS / 20)  # limited, not clipped
    opening_peak = np.abs(a[:SAMPLE_RATE * 10]).max() / 32767
    assert 20 * np.log10(opening_peak) == pytest.approx(-5.0, abs=0.1)
    assert np.abs(a[-50:]).max() < 200  # faded out at the end


def test_the_stream_decodes_to_the_wav_and_grows_before_the_piece_is_finished(tmp_path):
    steps = [Step((60 + (i * 7) % 19, 55 + i % 5), 0.25 * (1 + i % 6), 0.25 * (1 + i % 3)) for i in range(160)]
    stream = GrowingFile(tmp_path / "s.ogg")
    renderer = StepsRenderer(tempo_bpm=110, program=0, stream=stream)
    try:
        for made in range(10, 120, 10):
            renderer.update(steps[:made])
        deadline = time.monotonic() + 30
        while stream.size == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.size > 0 and stream.state == GrowingFile.GROWING  # audible before the end is known
        wav = renderer.finish(steps, tmp_path / "s.wav")
        renderer.wait_encoded(30)
    finally:
        renderer.close()
    assert stream.state == GrowingFile.COMPLETE
    decoded, rate = soundfile.read(str(stream.path), dtype="int16")
    written, _ = soundfile.read(str(wav), dtype="int16")
    assert rate == SAMPLE_RATE and len(decoded) == len(written)
    soundfile.write(str(tmp_path / "decoded.wav"), decoded, rate, subtype="PCM_16")
    heard, kept = loudness_curve(tmp_path / "decoded.wav"), loudness_curve(wav)
    assert np.corrcoef(heard, kept)[0, 1] > 0.99
    noise = decoded.astype(float) - written
    assert 10 * np.log10((written.astype(float) ** 2).sum() / (noise ** 2).sum()) > 15  # dB


def test_a_stopped_renderer_ends_its_stream_for_readers(tmp_path):
    stream = GrowingFile(tmp_path / "s.ogg")
    renderer = StepsRenderer(tempo_bpm=120, program=0, stream=stream)
    renderer.update([Step((60,), 1.0, 1.0)] * 40)
    renderer.close()
    assert stream.state == GrowingFile.ABORTED
    assert stream.read_from(0) is None


def test_a_growing_file_refuses_writes_anywhere_but_the_end(tmp_path):
    stream = GrowingFile(tmp_path / "s.ogg")
    stream.write(b"OggS1234")
    stream.seek(0)
    with pytest.raises(RenderError, match="not at the end"):
        stream.write(b"x")
    stream.seek(0, 2)
    stream.write(b"5678")
    assert stream.read_from(4, wait_s=0.01) == b"12345678" and stream.read_from(12, wait_s=0.01) == b""
    stream.complete()
    assert stream.read_from(12) is None and (tmp_path / "s.ogg").read_bytes() == b"OggS12345678"


def test_a_growing_stream_is_sent_no_further_ahead_than_its_lead(tmp_path):
    stream = GrowingFile(tmp_path / "s.ogg")
    for second in range(1, 61):  # a minute of "audio", 1000 bytes a second, all written already
        stream.write(b"x" * 1000)
        stream.mark(float(second))

    sent = []

    async def first_half_second():
        async def consume():
            async for chunk in follow(stream, lead_s=5.0):
                sent.append(len(chunk))

        try:
            await asyncio.wait_for(consume(), 0.5)
        except asyncio.TimeoutError:
            pass

    _run(first_half_second())
    assert 5000 <= sum(sent) <= 6000
    stream.complete()

    async def everything():
        return b"".join([chunk async for chunk in follow(stream, lead_s=1e6)])

    assert len(_run(everything())) == 60_000


def test_the_store_names_streams_unguessably_and_sweeps_old_stopped_and_surplus_ones(tmp_path):
    store = StreamStore(tmp_path, max_age_s=60, max_bytes=2500)
    first, second, third = store.open(), store.open(), store.open()
    assert len({first.name, second.name, third.name}) == 3 and all(len(s.name) >= 20 for s in (first, second))
    for stream in (first, second):
        stream.write(b"x" * 2000)
        stream.complete()
    third.abort()
    store.sweep()
    assert store.get(first.name) is None and not first.path.exists()  # the oldest complete one, past the bytes
    assert store.get(second.name) is second and store.get(third.name) is None
    store.sweep(now=time.time() + 61)
    assert store.get(second.name) is None
    assert respond(store, second.name).status_code == 404
    assert respond(store, "../../etc/passwd").status_code == 404


def test_a_sessions_streams_are_deleted_when_it_ends_and_no_one_elses(tmp_path):
    store = StreamStore(tmp_path)
    mine, also_mine, theirs = store.open("me"), store.open("me"), store.open("them")
    for stream in (mine, theirs):
        stream.write(b"x" * 100)
        stream.complete()  # also_mine is still growing: it is stopped too
    assert store.remove_owner("me") == 2
    assert not mine.path.exists() and not also_mine.path.exists() and also_mine.state == GrowingFile.ABORTED
    assert store.get(mine.name) is None and respond(store, mine.name).status_code == 404
    assert store.get(theirs.name) is theirs and theirs.path.exists()
    assert store.remove_owner("me") == 0
