"""A piece's audio as it is made: levelled once, kept for the WAV, and encoded to Ogg Vorbis
while the rest of the piece is still being sampled and rendered, into a file a server can send
while it grows.

A listener can hear the opening of a piece before its end exists only if nothing later changes
what was already sent. So the gain is fixed by the opening (``LEVEL_WINDOW_S``), with headroom
for louder passages later, which a soft limiter catches; the fade-out waits for the end. The WAV
written at the end holds exactly the samples that were encoded, so the player and the download
sound the same but for the codec.

Vorbis (libsndfile, through soundfile) because it writes pages in order and never seeks back, so
the file can be served as it grows; MP3 seeks back to its header at the end, and Opus and MP3
encode 5-7x slower here (benchmarks/bench_listen.py --codecs). One ``sf.write`` of a whole array
as Ogg crashed the interpreter on this machine; block writes through ``sf.SoundFile`` do not.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import RenderError

# Level: the gain of a piece is set once, from its opening.
LEVEL_WINDOW_S = 10.0  # the opening that sets the gain (the whole piece when it is shorter)
PEAK_DBFS = -1.0  # no sample louder than this: the soft limiter starts here
HEADROOM_DB = 4.0  # the opening's peak is set this far below PEAK_DBFS (whole-piece peaks were within 3.9 dB
#                    of the first 10 s in 12 pieces of the 6 shipped genres: the limiter rarely acts)
MAX_GAIN_DB = 20.0  # a near-silent opening is not blown up by more than this
FADE_S = 0.3  # the release tail fades out over the last FADE_S seconds

# Encoding: Ogg Vorbis, ~110 kbit/s for 44.1 kHz stereo (3.5 MB for the default 4.4-minute request).
MEDIA_TYPE, SUFFIX = "audio/ogg", ".ogg"
VORBIS_COMPRESSION = 0.6  # libsndfile's level, 0 (best, largest) to 1; 0.6 is Vorbis quality ~0.4
BLOCK_FRAMES = 8192  # frames per sf.SoundFile.write


class GrowingFile:
    """An append-only file that readers follow while it is written: ``read_from`` returns what is
    there and waits a little for more; the writer ends it with ``complete`` or ``abort``.

    Also the file object soundfile writes into (its virtual IO asks for write, seek, tell, read);
    a write anywhere but the end is refused, so a codec that seeks back cannot corrupt a stream
    that was already sent.
    """

    GROWING, COMPLETE, ABORTED = "growing", "complete", "aborted"

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.created = time.time()
        self.size = 0
        self.state = self.GROWING
        self._marks: list[tuple[float, int]] = [(0.0, 0)]  # (seconds of audio, bytes) as encoded
        self._position = 0
        self._changed = threading.Condition()
        self._handle = open(self.path, "wb")  # noqa: SIM115 (closed by complete/abort)

    # --- the writer's side (soundfile's virtual IO) ---
    def write(self, data) -> int:
        data = bytes(data)
        with self._changed:
            if self.state != self.GROWING:
                return len(data)  # stopped: the encoder's last pages go nowhere
            if self._position != self.size:
                raise RenderError(f"{self.name}: the encoder wrote at byte {self._position}, not at the end")
            self._handle.write(data)
            self._handle.flush()
            self.size += len(data)
            self._position = self.size
            self._changed.notify_all()
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self.size}[whence]
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        return b""  # written only: libsndfile reads nothing back from an Ogg it writes

    def mark(self, seconds: float) -> None:
        """The audio up to ``seconds`` is in the file now (so a reader can pace itself by time)."""
        with self._changed:
            self._marks.append((seconds, self.size))

    def offset_at(self, seconds: float) -> int:
        """Bytes of the file that hold the audio up to ``seconds`` (all of it past the end)."""
        import bisect

        with self._changed:
            if self.state != self.GROWING and seconds >= self._marks[-1][0]:
                return self.size
            index = bisect.bisect_left(self._marks, (seconds, -1))
            return self._marks[index][1] if index < len(self._marks) else self.size

    def complete(self) -> None:
        self._end(self.COMPLETE)

    def abort(self) -> None:
        self._end(self.ABORTED)

    def _end(self, state: str) -> None:
        with self._changed:
            if self.state == self.GROWING:
                self.state = state
                self._handle.close()
            self._changed.notify_all()

    # --- a reader's side ---
    def read_from(self, offset: int, limit: int = 1 << 18, wait_s: float = 0.0) -> bytes | None:
        """Up to ``limit`` bytes from ``offset``; b"" when nothing new came within ``wait_s``;
        None at the end of a complete file, or once the file was aborted."""
        with self._changed:
            if self.state == self.GROWING and self.size <= offset and wait_s > 0:
                self._changed.wait(wait_s)
            size, state = self.size, self.state
        if state == self.ABORTED or (state == self.COMPLETE and offset >= size):
            return None
        if offset >= size:
            return b""
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            return handle.read(min(limit, size - offset))


class OggEncoder:
    """Encodes int16 stereo blocks to Ogg Vorbis into a ``GrowingFile``, in a thread of its own
    (libsndfile releases the GIL while it encodes), so sampling and rendering never wait for it."""

    def __init__(self, out: GrowingFile, sample_rate: int, channels: int = 2) -> None:
        self.out, self.sample_rate, self.channels = out, sample_rate, channels
        self.error: BaseException | None = None
        self._blocks: queue.SimpleQueue = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._work, name="ogg-encoder", daemon=True)
        self._thread.start()

    def put(self, frames: np.ndarray) -> None:
        self._blocks.put(frames)

    def close(self) -> None:
        """No more audio: the encoder finishes the file and marks it complete."""
        self._blocks.put(None)

    def abort(self) -> None:
        """Stop now; readers see the file end."""
        self._stopped.set()
        self.out.abort()
        self._blocks.put(None)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the file to be complete; raise what the encoder raised."""
        self._thread.join(timeout)
        if self.error is not None:
            raise RenderError(f"encoding the audio failed: {self.error}") from self.error

    def _work(self) -> None:
        import soundfile

        try:
            with soundfile.SoundFile(self.out, "w", self.sample_rate, self.channels, format="OGG",
                                     subtype="VORBIS", compression_level=VORBIS_COMPRESSION) as encoded:
                written = 0
                while (frames := self._blocks.get()) is not None and not self._stopped.is_set():
                    for start in range(0, len(frames), BLOCK_FRAMES):
                        encoded.write(frames[start:start + BLOCK_FRAMES])
                    written += len(frames)
                    self.out.mark(written / self.sample_rate)
            if self._stopped.is_set():
                self.out.abort()
            else:
                self.out.complete()
        except BaseException as error:  # handed to join(); readers see the file end
            self.error = error
            self.out.abort()


class PieceAudio:
    """Raw synth frames in, in order; levelled frames out, kept for the WAV (unless ``keep`` is
    off: the stream alone is wanted) and, when a ``GrowingFile`` is given, encoded as they come.

    Nothing is levelled before the gain is known (the first ``LEVEL_WINDOW_S`` seconds, or the
    whole piece if it is shorter), and the fade applies once ``end_at`` has said where the piece
    ends, so a frame is levelled exactly once.
    """

    def __init__(self, sample_rate: int, stream: GrowingFile | None = None, *, keep: bool = True) -> None:
        self.sample_rate, self.keep = sample_rate, keep
        self.gain: float | None = None
        self.levelled = 0  # frames levelled so far
        self._window = int(LEVEL_WINDOW_S * sample_rate)
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0
        self._end: int | None = None
        self._blocks: list[np.ndarray] = []
        self._encoder = OggEncoder(stream, sample_rate) if stream is not None else None

    def feed(self, frames: np.ndarray) -> None:
        """The next raw (frames, 2) int16 audio of the piece."""
        if not len(frames):
            return
        if self.gain is None:
            self._pending.append(frames)
            self._pending_frames += len(frames)
            if self._pending_frames >= self._window:
                self._release_pending()
            return
        self._level(frames)

    def end_at(self, frames: int) -> None:
        """The piece is ``frames`` long: its last FADE_S seconds fade out."""
        self._end = frames

    def finish(self) -> np.ndarray:
        """Everything was fed: the whole levelled piece, empty when not kept (the encoder finishes
        in the background)."""
        if self.gain is None:
            self._release_pending()
        if self._encoder is not None:
            self._encoder.close()
        audio = np.concatenate(self._blocks) if self._blocks else np.zeros((1, 2), np.int16)
        self._blocks = [audio]
        return audio

    def wait_encoded(self, timeout: float | None = None) -> None:
        if self._encoder is not None:
            self._encoder.join(timeout)

    def abort(self) -> None:
        if self._encoder is not None:
            self._encoder.abort()

    def _release_pending(self) -> None:
        opening = np.concatenate(self._pending) if self._pending else np.zeros((0, 2), np.int16)
        self._pending, self._pending_frames = [], 0
        self.gain = level_gain(opening[:self._window])  # exactly the opening, however it was fed
        self._level(opening)

    def _level(self, frames: np.ndarray) -> None:
        scaled = frames.astype(np.float32) * np.float32(self.gain)
        limit_peaks(scaled)
        if self._end is not None:
            fade_start = self._end - int(FADE_S * self.sample_rate)
            first, last = self.levelled, self.levelled + len(frames)
            if last > fade_start:
                positions = np.arange(max(first, fade_start), last)
                ramp = np.clip((self._end - positions) / max(1, self._end - fade_start), 0.0, 1.0)
                scaled[positions - first] *= ramp[:, None].astype(np.float32)
        out = scaled.astype(np.int16)
        self.levelled += len(out)
        if self.keep:
            self._blocks.append(out)
        if self._encoder is not None:
            self._encoder.put(out)


def level_gain(opening: np.ndarray) -> float:
    """The gain that puts the opening's peak HEADROOM_DB below PEAK_DBFS (at most MAX_GAIN_DB)."""
    peak = max(int(opening.max(initial=0)), -int(opening.min(initial=0)))
    ceiling = 10 ** (MAX_GAIN_DB / 20)
    return min(ceiling, 32767 * 10 ** ((PEAK_DBFS - HEADROOM_DB) / 20) / peak) if peak else 1.0


def limit_peaks(samples: np.ndarray) -> None:
    """In place: samples beyond PEAK_DBFS bend smoothly towards full scale instead of clipping."""
    threshold = np.float32(32767 * 10 ** (PEAK_DBFS / 20))
    over = np.abs(samples) > threshold
    if over.any():
        room = np.float32(32767) - threshold
        loud = samples[over]
        samples[over] = np.sign(loud) * (threshold + room * np.tanh((np.abs(loud) - threshold) / room))
