"""Load: 16 concurrent gradio_client clients, 5 generate requests each, against `python app.py`.

    .venv/bin/python benchmarks/bench_load.py [--clients 16] [--requests 5] [--length 200]

Loopback only, bounded: every request has a timeout and the run stops after --deadline seconds.
Reports p50/p95 latency, failures (a "queue full" answer is a failure), the server's resident
memory after warm-up and after the run, and the disk its temporary files take (the server gets a
temporary folder of its own) when it has started and after the run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_app import free_port, percentile, rss_mb, start_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--deadline", type=float, default=1200)
    args = parser.parse_args()
    from gradio_client import Client

    port = free_port()
    temporary = Path(tempfile.mkdtemp(prefix="bench-load-server-"))
    process, _ = start_app(port, TMPDIR=str(temporary))
    disk_start = folder_mb(temporary)
    url = f"http://127.0.0.1:{port}/"
    latencies, failures, lock = [], [], threading.Lock()
    try:
        warm = Client(url, verbose=False)
        for seed in range(3):
            warm.predict(length=args.length, random_seed=seed, api_name="/generate")
        memory_warm = rss_mb(process.pid)
        stop_at = time.monotonic() + args.deadline

        def user(number: int) -> None:
            client = Client(url, verbose=False)
            for request in range(args.requests):
                if time.monotonic() > stop_at:
                    with lock:
                        failures.append("deadline")
                    return
                began = time.perf_counter()
                try:
                    job = client.submit(length=args.length, random_seed=1000 * number + request, api_name="/generate")
                    job.result(timeout=max(1.0, stop_at - time.monotonic()))
                    with lock:
                        latencies.append(time.perf_counter() - began)
                except Exception as error:  # a failed request is what this script counts
                    with lock:
                        failures.append(f"{type(error).__name__}: {str(error)[:80]}")

        began = time.perf_counter()
        threads = [threading.Thread(target=user, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.deadline + 60)
        wall = time.perf_counter() - began
        memory_after = rss_mb(process.pid)
        disk_after = folder_mb(temporary)
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(temporary, ignore_errors=True)
    total = args.clients * args.requests
    print(f"{args.clients} clients x {args.requests} requests ({args.length} steps with streamed audio) in {wall:.0f} s")
    if latencies:
        print(f"served {len(latencies)} of {total}: p50 {statistics.median(latencies):.1f} s, "
              f"p95 {percentile(latencies, 0.95):.1f} s (queueing included)")
    print(f"failures: {len(failures)} {sorted(set(failures))[:5]}")
    print(f"resident memory: {memory_warm:.0f} MB after warm-up, {memory_after:.0f} MB after the run "
          f"({100 * (memory_after - memory_warm) / memory_warm:+.1f}%)")
    print(f"server temporary files: {disk_start:.0f} MB when it had started, {disk_after:.0f} MB after the run "
          f"({disk_after - disk_start:+.0f} MB)")


def folder_mb(folder: Path) -> float:
    """Megabytes of the files under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


if __name__ == "__main__":
    main()
