"""Click to sound: the real page in Debian's Chromium, on loopback and on a throttled network.

    .venv/bin/python benchmarks/bench_listen.py [--repeats 5] [--before d610162] [--conditions loopback,throttled]

Starts `python app.py` (this checkout, and with --before the app of that commit, exported with
`git archive` into a temporary folder) on free loopback ports, opens the page in Playwright with
Debian's Chromium (flags as in tests/conftest.py), and for each network condition clicks Generate
`--repeats` times with the default form (only the random seed changes, so no answer comes from the
browser's cache). "throttled" is DevTools' Network.emulateNetworkConditions: 20 Mbit/s down and up,
40 ms latency. Per click it reports, from the page's own clock:
- first sound: the player's audio element playing with currentTime > 0 (the new player starts by
  itself; the old one is started the moment it can play, as a user pressing play would);
- full player: the player's duration known (finite), i.e. it can seek to the end;
- result: the figures text shown (the request done);
- audio bytes: bytes received for audio answers (DevTools' dataReceived, so abandoned answers count
  too), and all bytes, until one second after the full player.
Prints p50/p95 (nearest rank) per app and condition.
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(ROOT / "tests"))

from bench_app import free_port, percentile  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
THROTTLED = {"offline": False, "latency": 40, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8}

# Runs in the page before its own scripts: remembers every media element that plays, and the click.
WATCH_MEDIA = """
window.__media = new Set();
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
    if (!state.sound && !a.paused && a.currentTime > 0) state.sound = now;
    if (!state.full && state.sound && isFinite(a.duration) && a.duration > 0 && a.src) state.full = now;
  }
  if (!state.result && /Random seed/.test((document.querySelector('#figures') || {}).innerText || '')) state.result = now;
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


def start_old_player(page) -> None:
    """The old gr.Audio player does not start by itself: press its play button once it is enabled."""
    button = page.locator("#audio-0 button[aria-label='Play'], #audio-0 button.play-pause-button").first
    if button.count() and button.is_enabled():
        button.click(timeout=1000)


def one_click(page, cdp, seed: int, old: bool, timeout_s: float = 180.0) -> dict:
    received = {"audio": 0, "all": 0}
    kinds: dict[str, str] = {}

    def on_response(event):
        kinds[event["requestId"]] = event["response"].get("mimeType", "")

    def on_data(event):  # chunk by chunk, so answers the player abandons count too
        size = event.get("encodedDataLength", 0)
        received["all"] += size
        if kinds.get(event["requestId"], "").startswith("audio/"):
            received["audio"] += size

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.dataReceived", on_data)
    page.evaluate("() => { for (const a of window.__media) a.pause(); document.querySelectorAll('audio').forEach(a => a.pause()); window.__media = new Set(); }")
    seed_box = page.locator("#random-seed input").first
    seed_box.fill(str(seed))
    seed_box.press("Tab")
    page.locator("#generate").click()
    state: dict = {}
    began = time.perf_counter()
    pressed = False
    while not (state.get("full") and state.get("result")):
        if time.perf_counter() - began > timeout_s:
            raise SystemExit(f"no full player within {timeout_s} s: {state}")
        state = page.evaluate(POLL, state)
        if old and not pressed and state.get("result"):
            start_old_player(page)
            pressed = bool(page.evaluate("() => window.__media.size"))
        time.sleep(0.005)
    time.sleep(1.0)  # responses still in flight (the stream's end, the cache reload) are counted
    clicked = page.evaluate("() => window.__clicked")
    cdp.remove_listener("Network.responseReceived", on_response)
    cdp.remove_listener("Network.dataReceived", on_data)
    return {"sound": (state["sound"] - clicked) / 1000, "full": (state["full"] - clicked) / 1000,
            "result": (state["result"] - clicked) / 1000, "audio_mb": received["audio"] / 1e6,
            "all_mb": received["all"] / 1e6}


def measure(browser, url: str, condition: str, repeats: int, old: bool) -> list[dict]:
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", help="a git ref whose app is measured too (e.g. main's commit)")
    parser.add_argument("--conditions", default="loopback,throttled")
    args = parser.parse_args()
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
                print(f"machine: {os.cpu_count()} cores; default form (500 steps, first genre), {args.repeats} clicks "
                      "per app and condition after one warm-up; throttled = 20 Mbit/s, 40 ms", flush=True)
                for condition in args.conditions.split(","):
                    for name, _ in apps:  # the apps take turns, condition by condition
                        report(name, condition, measure(browser, urls[name], condition, args.repeats, name == "before"))
            finally:
                browser.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
