"""The app's sampling time on each inference engine, side by side in one run.

    .venv/bin/python benchmarks/bench_app_engines.py [--requests 8] [--length 500]

Starts `python app.py` twice, with GENRE_LSTM_ENGINE=keras (the compiled Keras step, the app
before the NumPy path) and =numpy (the CPU default now), and alternates the default request (500
steps with the streamed audio, one variation, irish-fiddle) between them. Reports, per engine, the medians of the
sampling time the app itself reports and of the whole request, and their ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_app import free_port, percentile, start_app  # noqa: E402

ENGINES = ("keras", "numpy")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--length", type=int, default=500)
    args = parser.parse_args()
    from gradio_client import Client

    servers, clients = {}, {}
    try:
        for engine in ENGINES:
            port = free_port()
            servers[engine], _ = start_app(port, GENRE_LSTM_ENGINE=engine)
            clients[engine] = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
            clients[engine].predict(length=args.length, api_name="/generate")  # load and compile once
        sampling = {engine: [] for engine in ENGINES}
        total = {engine: [] for engine in ENGINES}
        for index in range(args.requests):
            for engine in (ENGINES if index % 2 == 0 else ENGINES[::-1]):
                began = time.perf_counter()
                result = clients[engine].predict(length=args.length, random_seed=index, api_name="/generate")
                total[engine].append(time.perf_counter() - began)
                sampling[engine].append(float(re.search(r"sampling ([\d.]+) s", result[0]).group(1)))
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(10)
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {os.cpu_count()} cores; {args.length} steps with streamed audio, 1 variation, {args.requests} requests "
          "per engine, alternated")
    for engine in ENGINES:
        print(f"  {engine:5s}: sampling p50 {statistics.median(sampling[engine]):.3f} s "
              f"(p95 {percentile(sampling[engine], 0.95):.3f}), whole request p50 {statistics.median(total[engine]):.2f} s "
              f"(p95 {percentile(total[engine], 0.95):.2f})")
    ratio = statistics.median(sampling["keras"]) / statistics.median(sampling["numpy"])
    whole = statistics.median(total["keras"]) / statistics.median(total["numpy"])
    print(f"  keras / numpy: sampling {ratio:.2f}x, whole request {whole:.2f}x")


if __name__ == "__main__":
    main()
