"""The app end to end: cold start, warm latency through gradio_client, the time split, memory.

    .venv/bin/python benchmarks/bench_app.py [--requests 20] [--length 500]

Starts `python app.py` on a free loopback port as users do, then measures: seconds to the first
page served and to the first generation; p50/p95 of `--requests` generate calls (500 steps with
the streamed audio, one variation, one warm client) alternated with do-nothing `ping` calls (the floor); the
sampling / MIDI / rendering split the app reports; FluidSynth's speed as a multiple of real time;
the server's resident memory after serving every shipped genre once.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(port: int, **variables: str) -> tuple[subprocess.Popen, float]:
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", **variables}
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    while time.perf_counter() - began < 120:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).status == 200:
                return process, time.perf_counter() - began
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the app did not serve its page within 120 s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    import psutil

    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--length", type=int, default=500)
    args = parser.parse_args()
    from gradio_client import Client

    from genre_lstm.app.service import installed_genres

    port = free_port()
    started = time.perf_counter()
    process, first_page = start_app(port)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict(length=args.length, api_name="/generate")
        first_generation = time.perf_counter() - started
        # A client that downloads every output file (WAV twice: player and download list) and one
        # that receives their addresses, as a browser does before it streams the audio.
        links_only = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        latencies, downloads, floors, splits = [], [], [], []
        for index in range(args.requests):
            began = time.perf_counter()
            client.predict(api_name="/ping")
            floors.append(time.perf_counter() - began)
            began = time.perf_counter()
            downloaded = client.predict(length=args.length, random_seed=index, api_name="/generate")
            downloads.append(time.perf_counter() - began)
            began = time.perf_counter()
            result = links_only.predict(length=args.length, random_seed=index, api_name="/generate")
            latencies.append(time.perf_counter() - began)
            found = re.search(r"sampling ([\d.]+) s, MIDI ([\d.]+) s, rendering ([\d.]+) s more", result[0])
            music = re.search(r"(\d+) s of music", result[0])
            splits.append((*map(float, found.groups()), float(music.group(1))))
        for genre in installed_genres():
            client.predict(genre=genre.id, length=args.length, api_name="/generate")
        memory = rss_mb(process.pid)
        midi = next(path for path in _strings(downloaded) if path.endswith(".mid"))
        speed = fluidsynth_speed(midi)
    finally:
        process.terminate()
        process.wait(10)
    sampling, midi, render, music = (statistics.median(column) for column in zip(*splits))
    print(f"machine: {os.cpu_count()} cores; app as `python app.py`; {args.length} steps with streamed audio, 1 variation")
    print(f"cold start: first page {first_page:.1f} s, first generation {first_generation:.1f} s after start")
    print(f"warm generate, file addresses returned: p50 {statistics.median(latencies):.2f} s, "
          f"p95 {percentile(latencies, 0.95):.2f} s over {len(latencies)} requests")
    print(f"warm generate, every file downloaded by the client: p50 {statistics.median(downloads):.2f} s, "
          f"p95 {percentile(downloads, 0.95):.2f} s; do-nothing request p50 {statistics.median(floors):.3f} s")
    print(f"split (medians): sampling {sampling:.2f} s (rendering alongside), MIDI {midi:.3f} s, rendering left "
          f"after sampling {render:.2f} s, for {music:.0f} s of music")
    print(f"FluidSynth alone on the last returned MIDI: {speed:.0f}x real time")
    print(f"resident memory after serving all {len(installed_genres())} genres once: {memory:.0f} MB")


def _strings(value):
    """Every string inside a client result (paths sit in lists and dicts)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def fluidsynth_speed(midi: str, repeats: int = 3) -> float:
    """Seconds of music per second of rendering, best of ``repeats``, in this process."""
    import tempfile

    from genre_lstm.music.render import midi_to_wav, wav_stats

    best = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            began = time.perf_counter()
            wav = midi_to_wav(midi, Path(folder) / "speed.wav")
            best = min(best, time.perf_counter() - began)
        return wav_stats(wav)[0] / best


if __name__ == "__main__":
    main()
