"""Click to sound: the real page in Debian's Chromium, on loopback and on a throttled network.

    .venv/bin/python benchmarks/bench_listen.py [--repeats 5] [--before d610162] [--conditions loopback,throttled]
                                                [--genre "Baroque chorale"]
    .venv/bin/python benchmarks/bench_listen.py --codecs   # the codecs libsndfile offers, on a real piece

Starts `python app.py` (this checkout, and with --before the app of that commit, exported with
`git archive` into a temporary folder) on free loopback ports, opens the page in Playwright with
Debian's Chromium (flags as in tests/conftest.py), and for each network condition clicks Generate
`--repeats` times with the default form (only the random seed changes, so no answer comes from the
browser's cache). "throttled" is DevTools' Network.emulateNetworkConditions: 20 Mbit/s down and up,
40 ms latency. Per click it reports, from the page's own clock:
- first sound: the player's audio element playing with currentTime > 0 (the new player starts by
  itself). The old gr.Audio player plays through Web Audio, with no media element to watch: its
  first sound is counted when it could first play: the result shown, the WAV received and its
  play button there (a lower bound: a user still has to press it);
- full player: the player's duration known (finite), i.e. it can seek to the end (the old player:
  the same moment as its first sound);
- result: the figures text shown (the request done);
- audio bytes: bytes received for audio answers (DevTools' dataReceived, so abandoned answers count
  too), and all bytes, until one second after the full player.
Prints p50/p95 (nearest rank) per app and condition.
"""

from __future__ import annotations

import argparse
import re
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from bench_app import free_port, percentile  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
THROTTLED = {"offline": False, "latency": 40, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8}

# Runs in the page before its own scripts: remembers every media element that plays, and the click.
WATCH_MEDIA = """
window.__media = new Set();
window.__old = new Set();
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { window.__media.add(this); return play.apply(this, arguments); };
document.addEventListener('click', (e) => {
  if (e.target.closest && e.target.closest('#generate')) window.__clicked = performance.now();
}, true);
"""

# Polled after the click: the first time sound plays and the player's length is known.
POLL = """
(state) => {
  const now = performance.now();
  const found = new Set(window.__media);
  document.querySelectorAll('#audio-0 audio').forEach((a) => found.add(a));
  for (const a of found) {
    if (!a.currentSrc || window.__old.has(a.currentSrc)) continue;  // the previous request's audio
    if (!state.sound && !a.paused && a.currentTime > 0) state.sound = now;
    if (!state.full && state.sound && isFinite(a.duration) && a.duration > 0 && a.src) state.full = now;
  }
  const figures = (document.querySelector('#figures') || {}).innerText || '';
  if (!state.result && figures.includes(state.want)) state.result = now;
  if (state.old && !state.sound && state.result && state.audio_done
      && document.querySelector("#audio-0 button[aria-label='Play']")) state.sound = state.full = now;
  return state;
}
"""


def start(folder: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONPATH": str(folder), "GENRE_LSTM_TRAIN_TAB": "0"}
    process = subprocess.Popen([sys.executable, "app.py"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    began = time.perf_counter()
    while time.perf_counter() - began < 120:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the app in {folder} did not serve its page within 120 s")


def export(ref: str) -> Path:
    """The repository at ``ref`` in a temporary folder (checkpoints included), without touching any worktree."""
    folder = Path(tempfile.mkdtemp(prefix="bench-listen-before-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def one_click(page, cdp, seed: int, old: bool, timeout_s: float = 180.0) -> dict:
    received = {"audio": 0, "all": 0, "audio_done": False}
    kinds: dict[str, str] = {}

    def on_response(event):
        kinds[event["requestId"]] = event["response"].get("mimeType", "")

    def on_finished(event):
        if kinds.get(event["requestId"], "").startswith("audio/"):
            received["audio_done"] = True

    def on_data(event):  # chunk by chunk, so answers the player abandons count too
        size = event.get("encodedDataLength", 0)
        received["all"] += size
        if kinds.get(event["requestId"], "").startswith("audio/"):
            received["audio"] += size

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.dataReceived", on_data)
    cdp.on("Network.loadingFinished", on_finished)
    page.evaluate("() => { const all = [...window.__media, ...document.querySelectorAll('audio')];"
                  " all.forEach((a) => a.pause()); window.__old = new Set(all.map((a) => a.currentSrc));"
                  " window.__media = new Set(); }")
    seed_box = page.locator("#random-seed input").first
    seed_box.fill(str(seed))
    seed_box.press("Tab")
    page.locator("#generate").click()
    state = {"want": f"Random seed {seed} (", "old": old}
    began = time.perf_counter()
    while not (state.get("full") and state.get("result")):
        if time.perf_counter() - began > timeout_s:
            raise SystemExit(f"no full player within {timeout_s} s: {state}")
        state = page.evaluate(POLL, {**state, "audio_done": received["audio_done"]})
        time.sleep(0.005)
    time.sleep(1.0)  # responses still in flight (the stream's end, the cache reload) are counted
    clicked = page.evaluate("() => window.__clicked")
    cdp.remove_listener("Network.responseReceived", on_response)
    cdp.remove_listener("Network.dataReceived", on_data)
    cdp.remove_listener("Network.loadingFinished", on_finished)
    return {"sound": (state["sound"] - clicked) / 1000, "full": (state["full"] - clicked) / 1000,
            "result": (state["result"] - clicked) / 1000, "audio_mb": received["audio"] / 1e6,
            "all_mb": received["all"] / 1e6}


def measure(browser, url: str, condition: str, repeats: int, old: bool, genre: str | None = None) -> list[dict]:
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.add_init_script(WATCH_MEDIA)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    if condition == "throttled":
        cdp.send("Network.emulateNetworkConditions", THROTTLED)
    try:
        page.goto(url, wait_until="load")
        page.locator("#generate").wait_for(timeout=60_000)
        if genre:  # the genre's name as the list shows it, e.g. "Baroque chorale"
            page.locator("#genre input").first.click()
            page.get_by_role("option", name=re.compile(f"^{re.escape(genre)}")).click()
        one_click(page, cdp, 999, old)  # warm: the model loads and compiles on the first request
        return [one_click(page, cdp, seed, old) for seed in range(repeats)]
    finally:
        context.close()


def report(name: str, condition: str, rows: list[dict]) -> None:
    def figure(key, unit="s", digits=2):
        values = [r[key] for r in rows]
        return f"p50 {statistics.median(values):.{digits}f} {unit}, p95 {percentile(values, 0.95):.{digits}f} {unit}"

    print(f"{name:6s} {condition:9s} first sound {figure('sound')}; full player {figure('full')}; "
          f"result shown {figure('result')}; audio {figure('audio_mb', 'MB')}; all bytes {figure('all_mb', 'MB')} "
          f"({len(rows)} clicks)", flush=True)


def codecs(repeats: int) -> None:
    """Encode the default request's audio (rendered once) with each codec soundfile writes, in
    blocks as the stream does: seconds, speed against real time, size and bit rate."""
    import io

    import numpy as np
    import soundfile

    from genre_lstm.app import service
    from genre_lstm.music.stream import BLOCK_FRAMES, VORBIS_COMPRESSION

    with tempfile.TemporaryDirectory() as folder:
        genre = service.installed_genres()[0].id
        *_, result = service.run(genre, service.request_from_form(), Path(folder))
        frames, rate = soundfile.read(str(result.outputs[0].wav), dtype="int16")
    seconds = len(frames) / rate
    print(f"{genre}, default request: {seconds:.0f} s of 44.1 kHz stereo ({frames.nbytes / 1e6:.1f} MB as WAV)")
    for subtype, container, level in (("VORBIS", "OGG", VORBIS_COMPRESSION), ("OPUS", "OGG", 0.5),
                                      ("MPEG_LAYER_III", "MP3", 0.5)):
        times = []
        for _ in range(repeats):
            out = io.BytesIO()
            began = time.perf_counter()
            with soundfile.SoundFile(out, "w", 48000 if subtype == "OPUS" else rate, 2, format=container,
                                     subtype=subtype, compression_level=level) as encoded:
                for start in range(0, len(frames), BLOCK_FRAMES):
                    encoded.write(frames[start:start + BLOCK_FRAMES])
            times.append(time.perf_counter() - began)
        size = out.getbuffer().nbytes
        print(f"{subtype:15s} level {level}: {np.median(times):.2f} s ({seconds / np.median(times):.0f}x real time), "
              f"{size / 1e6:.2f} MB, {size * 8 / seconds / 1000:.0f} kbit/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", help="a git ref whose app is measured too (e.g. main's commit)")
    parser.add_argument("--conditions", default="loopback,throttled")
    parser.add_argument("--genre", help="pick this genre (its name in the list) instead of the one the page opens on")
    parser.add_argument("--codecs", action="store_true", help="compare the codecs instead (no browser)")
    args = parser.parse_args()
    if args.codecs:
        return codecs(args.repeats)
    from playwright.sync_api import sync_playwright

    apps = [("after", ROOT)] + ([("before", export(args.before))] if args.before else [])
    processes, urls = [], {}
    try:
        for name, folder in apps:
            port = free_port()
            processes.append(start(folder, port))
            urls[name] = f"http://127.0.0.1:{port}/"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
            try:
                print(f"machine: {os.cpu_count()} cores; default form (500 steps of {args.genre or 'the genre the page opens on'}), "
                      f"{args.repeats} clicks "
                      "per app and condition after one warm-up; throttled = 20 Mbit/s, 40 ms", flush=True)
                for condition in args.conditions.split(","):
                    for name, _ in apps:  # the apps take turns, condition by condition
                        report(name, condition, measure(browser, urls[name], condition, args.repeats, name == "before",
                                                           args.genre))
            finally:
                browser.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
