"""Corpus parsing by number of worker processes, side by side in one run, each into an empty cache.

    flock -x /tmp/genre-lstm-cpu.lock .venv/bin/python benchmarks/bench_parse.py \
        [--collection essen-chinese] [--workers 1 2] [--repeats 1]

Each run parses the whole collection into a fresh token cache (nothing cached), timing the wall
clock, then checks that every run wrote byte-identical cache files and the same pieces.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_lstm.training.corpus import cache_dir, collection_paths, read_pieces  # noqa: E402


def cache_contents() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(cache_dir().glob("*.json"))}


def timed_parse(paths: list[Path], workers: int) -> tuple[float, int, dict[str, bytes]]:
    """Seconds to parse ``paths`` into an empty cache, the pieces read, and the cache written."""
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as folder:
        os.environ["GENRE_LSTM_CACHE"] = folder
        started, cpu = time.perf_counter(), _cpu_seconds()
        report = read_pieces(paths, workers=workers)
        seconds = time.perf_counter() - started
        print(f"    CPU time {_cpu_seconds() - cpu:.1f} s (this process and its workers)")
        return seconds, len(report.pieces), cache_contents()


def _cpu_seconds() -> float:
    """User + system time of this process and its finished children (the parse workers)."""
    import resource

    return sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--collection", default="essen-chinese")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    paths = collection_paths(args.collection)
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    print(f"{args.collection}: {len(paths)} files, {megabytes:.2f} MB; {os.cpu_count()} CPU cores ({platform.machine()}), "
          f"{len(os.sched_getaffinity(0))} usable")
    best: dict[int, float] = {}
    caches = []
    for repeat in range(args.repeats):
        for workers in args.workers:
            seconds, pieces, cache = timed_parse(paths, workers)
            caches.append(cache)
            best[workers] = min(seconds, best.get(workers, seconds))
            print(f"  run {repeat + 1}, {workers} worker(s): {seconds:6.1f} s, {pieces} pieces, "
                  f"{pieces / seconds:6.1f} pieces/s, {len(paths) / seconds:.2f} files/s")
    same = all(cache == caches[0] for cache in caches)
    print(f"identical caches in every run: {same} ({len(caches[0])} files)")
    first = args.workers[0]
    for workers in args.workers:
        print(f"best of {args.repeats}: {workers} worker(s) {best[workers]:.1f} s, "
              f"speed-up over {first}: {best[first] / best[workers]:.2f}x")


if __name__ == "__main__":
    main()
