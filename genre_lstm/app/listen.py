"""The player's audio over HTTP: each variation's Ogg stream, sent while it grows, from a store
with a bounded age and size.

The app's player asks ``GET /listen/<token>.ogg`` as soon as the request starts. While the stream
grows the answer is a chunked 200 that follows the file (the first seconds play while the rest is
still sampled and rendered), paced to ``LEAD_S`` seconds of audio ahead of the time since it
started; once complete, the file itself with its length and byte ranges, so the player can seek.
The player moves to that second answer when the stream is complete (``?whole``): it fetches from
where it is playing, and the pacing keeps what both answers carry twice to about ``LEAD_S`` seconds.
Tokens are random and unguessable; nothing else on the disk can be named.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from ..music.stream import MEDIA_TYPE, SUFFIX, GrowingFile

ROUTE = "/listen"
MAX_AGE_S = 1800  # a result is kept this long after it started: its stream here, its files in Gradio's cache (app.py)
MAX_BYTES = 512 * 2**20  # all streams together; past this the oldest complete ones go first (~150 default requests)
POLL_S = 0.02  # how often a response following a growing stream looks for new bytes
LEAD_S = 15.0  # a growing stream is sent this many seconds of audio ahead of the time since it started
CHUNK_BYTES = 1 << 18


class StreamStore:
    """Growing Ogg files by name, in a private folder; ``open`` also sweeps out expired, stopped
    and (past ``max_bytes``) the oldest complete streams."""

    def __init__(self, folder: str | Path | None = None, *, max_age_s: float = MAX_AGE_S,
                 max_bytes: int = MAX_BYTES) -> None:
        if folder is None:  # a private folder, removed when the process exits
            folder = tempfile.mkdtemp(prefix="genre-lstm-listen-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_age_s, self.max_bytes = max_age_s, max_bytes
        self._files: dict[str, GrowingFile] = {}
        self._owners: dict[str, str] = {}  # stream name -> the session it was made for
        self._lock = threading.Lock()

    def open(self, owner: str = "") -> GrowingFile:
        """A new empty stream with an unguessable name, made for ``owner`` (a session)."""
        self.sweep()
        stream = GrowingFile(self.folder / f"{secrets.token_urlsafe(16)}{SUFFIX}")
        with self._lock:
            self._files[stream.name] = stream
            self._owners[stream.name] = owner
        return stream

    def remove_owner(self, owner: str) -> int:
        """The session has ended: its streams are stopped and deleted now. Returns how many."""
        with self._lock:
            names = [name for name, who in self._owners.items() if who == owner]
            gone = [self._files.pop(name) for name in names]
            for name in names:
                del self._owners[name]
        for stream in gone:
            _delete(stream)
        return len(gone)

    def get(self, name: str) -> GrowingFile | None:
        with self._lock:
            return self._files.get(name)

    def sweep(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            gone = [s for s in self._files.values()
                    if s.state == GrowingFile.ABORTED or now - s.created > self.max_age_s]
            kept = sorted((s for s in self._files.values() if s not in gone), key=lambda s: s.created)
            total = sum(s.size for s in kept)
            for stream in kept:
                if total <= self.max_bytes:
                    break
                if stream.state == GrowingFile.COMPLETE:
                    gone.append(stream)
                    total -= stream.size
            for stream in gone:
                del self._files[stream.name]
                self._owners.pop(stream.name, None)
        for stream in gone:
            _delete(stream)

    def bytes_on_disk(self) -> int:
        with self._lock:
            return sum(s.size for s in self._files.values())


def _delete(stream: GrowingFile) -> None:
    stream.abort()
    stream.path.unlink(missing_ok=True)


STORE = StreamStore()


def url_of(stream: GrowingFile) -> str:
    """The player's address of a stream, relative to the page (works under a proxy's path prefix)."""
    return f"{ROUTE.lstrip('/')}/{stream.name}"


# The page's player (a gr.HTML's template and js_on_load): an <audio> element made once by the script
# (the template never changes, so Gradio never re-renders it). A new stream address starts it; when the
# stream is complete it moves to the whole file (another address: Chrome would reuse the growing
# answer, length unknown) and picks up where it was, now with a duration and a seek bar.
# (gr.Audio's own streaming output needs ffmpeg; this needs nothing beyond the browser.)
PLAYER_TEMPLATE = "<div class='genre-lstm-player'><span class='player-label'>{label}</span></div>"
PLAYER_JS = """
const audio = document.createElement('audio');
audio.controls = true; audio.preload = 'auto'; audio.style.width = '100%';
const link = document.createElement('a');
link.className = 'player-download'; link.textContent = 'Download this audio (Ogg)'; link.style.display = 'none';
element.querySelector('.genre-lstm-player').append(audio, link);
let shown = null;
function offer(value) {
  link.style.display = value.src && value.complete ? '' : 'none';
  if (value.src && value.complete) { link.href = value.src + '?whole'; link.download = value.name || 'piece.ogg'; }
}
function show() {
  let value = {};
  try { value = JSON.parse(props.value || '{}') || {}; } catch (error) { value = {}; }
  offer(value);
  if (!value.src) {
    if (shown) { audio.pause(); audio.removeAttribute('src'); audio.load(); shown = null; }
    return;
  }
  if (value.src !== shown) {
    shown = value.src; audio.dataset.complete = value.complete ? 'yes' : '';
    audio.src = value.src + (value.complete ? '?whole' : '');
    if (value.autoplay) audio.play().catch(() => {});
    return;
  }
  if (value.complete && !audio.dataset.complete) {
    audio.dataset.complete = 'yes';
    const at = audio.currentTime, playing = !audio.paused;
    audio.addEventListener('loadedmetadata', () => {
      audio.currentTime = at;
      if (playing) audio.play().catch(() => {});
    }, {once: true});
    audio.src = value.src + '?whole';
  }
}
watch('value', show);
show();
"""
PAUSE_PLAYERS_JS = "() => { document.querySelectorAll('.genre-lstm-player audio').forEach((a) => a.pause()); }"


def player_value(stream: GrowingFile, *, complete: bool, autoplay: bool = False, name: str = "") -> str:
    """A player's value: its stream's address, whether the stream is complete (then it can be
    downloaded, as ``name``), whether to start."""
    import json

    return json.dumps({"src": url_of(stream), "complete": complete, "autoplay": autoplay, "name": name})


def routes(store: StreamStore = STORE) -> list:
    """The Starlette routes that serve ``store``'s streams (for ``launch(app_kwargs={"routes": ...})``)."""
    from starlette.routing import Route

    async def serve(request):
        return respond(store, request.path_params["name"])

    return [Route(f"{ROUTE}/{{name}}", serve, methods=["GET", "HEAD"])]


def respond(store: StreamStore, name: str):
    """The answer for one stream: 404, the growing file as a chunked stream, or the complete file."""
    from starlette.responses import FileResponse, PlainTextResponse, StreamingResponse

    stream = store.get(name)
    if stream is None or stream.state == GrowingFile.ABORTED:
        return PlainTextResponse("no such audio: it was stopped, or it expired", status_code=404)
    if stream.state == GrowingFile.COMPLETE:
        return FileResponse(stream.path, media_type=MEDIA_TYPE,
                            headers={"Cache-Control": f"private, max-age={int(store.max_age_s)}"})
    return StreamingResponse(follow(stream), media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store"})


async def follow(stream: GrowingFile, lead_s: float = LEAD_S):
    """The stream's bytes as they are written, until it is complete (or stopped), never more than
    ``lead_s`` seconds of audio ahead of the time since the answer started."""
    import asyncio

    offset, began = 0, time.monotonic()
    while True:
        allowed = stream.offset_at(time.monotonic() - began + lead_s) - offset
        if allowed > 0:
            chunk = stream.read_from(offset, min(CHUNK_BYTES, allowed))
            if chunk is None:
                return
            if chunk:
                offset += len(chunk)
                yield chunk
                continue
        elif stream.state == GrowingFile.ABORTED or (stream.state == GrowingFile.COMPLETE and offset >= stream.size):
            return
        await asyncio.sleep(POLL_S)
