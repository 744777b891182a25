"""Paper's sampling loop vs our stateful sampler on the same weights, timed side by side.

    .venv/bin/python benchmarks/bench_sampling.py [--preset paper] [--steps 500] [--repeats 2]

Builds an untrained network of the preset (the same weights for both variants), a 100-step seed,
then alternates: the paper's loop (model.predict on the last 100 ids per step, argmax) and our
stateful sampler (seed once, then one step per note) on each engine (NumPy array products, the
compiled Keras step). Prints the medians, the ratios, and the per-step cost beside the time to
read the step's weights once from cache and from memory, measured in the same run. The OpenBLAS
variables are those of the command: prefix it with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``
to measure without them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_lstm.model.backend import backend_name, device_description, import_keras  # noqa: E402


def make_checkpoint(preset: str, vocab_size: int, folder: Path):
    from genre_lstm.model.network import ModelConfig, build_model
    from genre_lstm.model.tokenizer import SPECIAL_TOKENS, Vocabulary
    from genre_lstm.music.events import pitches_to_token
    from genre_lstm.store.checkpoint import load_checkpoint, save_checkpoint

    chords = [pitches_to_token((36 + i % 60, 36 + i % 60 + 4 + i // 60)) if i >= 60 else pitches_to_token((36 + i,))
              for i in range(vocab_size - len(SPECIAL_TOKENS))]
    vocab = Vocabulary([*SPECIAL_TOKENS, *chords])
    config = ModelConfig.for_preset(preset, len(vocab))
    import keras

    keras.utils.set_random_seed(0)
    save_checkpoint(folder, build_model(config), config, vocab, float16=False)
    return load_checkpoint(folder)


OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ONE_PRODUCT = "numpy, one matrix product"
CHUNK_BYTES = 2**20


def copy_seconds(source, threads: int, repeats: int) -> float:
    """Best time to read ``source`` by copying it, 1 MiB at a time, into a 1 MiB target per thread
    (the target stays in the core's own cache, so the reads are what is timed)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    parts = np.array_split(source, threads)
    chunk = CHUNK_BYTES // source.itemsize
    targets = [np.empty(chunk, source.dtype) for _ in parts]

    def read(part, target):
        for start in range(0, part.size, chunk):
            piece = part[start:start + chunk]
            np.copyto(target[:piece.size], piece)

    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeats):
            began = time.perf_counter()
            list(pool.map(read, parts, targets))
            best = min(best, time.perf_counter() - began)
    return best


def product_seconds(source, repeats: int) -> float:
    """Best time of the cheapest product that reads every element of ``source`` once: a matrix of
    2,048 columns times a vector (BLAS on every core)."""
    import numpy as np

    matrix = source[: source.size // 2048 * 2048].reshape(-1, 2048)
    vector = np.ones(2048, source.dtype)
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        matrix @ vector
        best = min(best, time.perf_counter() - began)
    return best * source.size / matrix.size


def weight_read_limits(nbytes: int, memory_bytes: int = 2**30) -> dict:
    """Seconds to read ``nbytes`` once: from cache (a buffer of that size, read again and again) and
    from memory (a buffer far larger than the cache, scaled to ``nbytes``); each the fastest of a
    copy on one core, a copy on every core, and a matrix-vector product."""
    import os

    import numpy as np

    limits = {}
    for where, size, repeats in (("cache", nbytes, 30), ("memory", memory_bytes, 3)):
        source = np.ones(size // 4, np.float32)
        ways = {f"copy, {threads} thread(s)": copy_seconds(source, threads, repeats)
                for threads in sorted({1, os.cpu_count() or 1})}
        ways["matrix-vector product"] = product_seconds(source, repeats)
        scale = nbytes / source.nbytes
        limits[where] = {way: seconds * scale for way, seconds in ways.items()}
        del source
    return limits


def limits_line(limits: dict, nbytes: int) -> str:
    """One printed line per place: each way's time and bandwidth, the fastest marked as the limit."""
    lines = []
    for where, ways in limits.items():
        best = min(ways.values())
        figures = ", ".join(f"{way} {1000 * s:.3f} ms ({nbytes / s / 1e9:.0f} GB/s)" for way, s in ways.items())
        lines.append(f"  read limit from {where}: {1000 * best:.3f} ms for {nbytes / 1e6:.1f} MB ({figures})")
    return "\n".join(lines)


def numpy_step_bytes(inference, batch: int = 1) -> int:
    """Bytes of weights one NumPy step reads: the LSTMs' stacked kernels and biases, the heads, and
    the looked-up rows of the default preset's input tables."""
    arrays = [*inference.stacked, *inference.biases]
    if inference.config.preset == "paper":
        arrays += [inference.dense.matrix, inference.dense_bias, inference.logits.matrix, inference.logits_bias]
        looked_up = 0
    else:
        arrays += [inference.head.matrix, inference.head_bias]
        looked_up = sum(table.shape[1] * 4 * batch for table in inference.input_tables.values())
    return sum(a.nbytes for a in arrays) + looked_up


def openblas_variants() -> dict[str, dict]:
    """Environments for child runs: as this shell has them, and without the OpenBLAS variables (as a
    user's machine has it), so each benchmark can time both side by side."""
    present = {name: os.environ[name] for name in OPENBLAS_VARIABLES if name in os.environ}
    bare = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARIABLES}
    label = " ".join(f"{k}={v}" for k, v in present.items()) or "OpenBLAS variables unset"
    return {label: dict(os.environ), "without OPENBLAS_*": bare} if present else {label: bare}


def checkpoint_with_engine(folder: Path, engine: str):
    """The checkpoint loaded as a user loads it, its runner built for ``engine``."""
    from genre_lstm.store.checkpoint import load_checkpoint

    saved = os.environ.get("GENRE_LSTM_ENGINE")
    os.environ["GENRE_LSTM_ENGINE"] = engine
    try:
        checkpoint = load_checkpoint(folder)
        checkpoint.runner
    finally:
        os.environ.pop("GENRE_LSTM_ENGINE") if saved is None else os.environ.update(GENRE_LSTM_ENGINE=saved)
    return checkpoint


def one_product(call):
    """``call`` with the NumPy step's few-row products as one matrix product each, not panel by
    panel (``numpy_step.PANEL_ROWS`` emptied while it runs): what the panels are measured against."""
    from genre_lstm.model import numpy_step

    def run(*args):
        saved, numpy_step.PANEL_ROWS = numpy_step.PANEL_ROWS, ()
        try:
            return call(*args)
        finally:
            numpy_step.PANEL_ROWS = saved
    return run


def timed(call) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", choices=("paper", "default"))
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2, help="runs of the paper loop (each engine runs 3x as many)")
    parser.add_argument("--vocab-size", type=int, default=500)
    args = parser.parse_args()
    import_keras()
    import numpy as np

    from genre_lstm.model.generate import generate, paper_window_generate
    from genre_lstm.model.numpy_step import numpy_inference
    from genre_lstm.music.events import Step
    from genre_lstm.request import FIELD, GenerationRequest

    VARIATIONS = (1, FIELD["variations"].high)  # one, and as many as a request may ask for

    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, backend {backend_name()}, "
          f"device {device_description()}; " + (", ".join(f"{k}={os.environ[k]}" for k in OPENBLAS_VARIABLES
                                                         if k in os.environ) or "OpenBLAS variables unset"))
    engines = ("numpy", "keras")
    for preset in args.preset or ["paper", "default"]:
        folder = make_checkpoint(preset, args.vocab_size, Path(tempfile.mkdtemp()) / "ck").folder
        checkpoints = {engine: checkpoint_with_engine(folder, engine) for engine in engines}
        reference = checkpoints["keras"]
        rng = np.random.default_rng(0)
        seed = [Step(reference.vocab.pitches_of(int(t)), 0.5, 0.5) for t in rng.integers(2, len(reference.vocab), 100)]
        settings = GenerationRequest(length=args.steps, random_seed=1)
        for checkpoint in checkpoints.values():
            generate(checkpoint, seed, GenerationRequest(length=5, variations=FIELD["variations"].high))  # compile outside the timing
        paper_window_generate(reference, seed, 2)
        paper, stateful = [], {engine: [] for engine in engines}
        for _ in range(args.repeats):
            for _ in range(3):
                for engine, checkpoint in checkpoints.items():
                    stateful[engine].append(timed(lambda: generate(checkpoint, seed, settings)))
            paper.append(timed(lambda: paper_window_generate(reference, seed, args.steps)))
        batch_paths = (*engines, ONE_PRODUCT)
        batches = {(path, count): [] for path in batch_paths for count in VARIATIONS}
        short = {engine: [] for engine in engines}
        for _ in range(3):
            for (path, count), runs in batches.items():
                request = GenerationRequest(length=args.steps, random_seed=1, variations=count)
                run = lambda: generate(checkpoints[path if path in engines else "numpy"], seed, request)  # noqa: E731
                runs.append(timed(one_product(run) if path == ONE_PRODUCT else run))
        for _ in range(5):  # the seed pass and one step, to take off the per-step figure
            for engine, checkpoint in checkpoints.items():
                short[engine].append(timed(lambda: generate(checkpoint, seed, GenerationRequest(length=1, random_seed=1))))
        nbytes = numpy_step_bytes(numpy_inference(reference.model, reference.config))
        limits = weight_read_limits(nbytes)
        cache_limit, memory_limit = (min(limits[where].values()) for where in ("cache", "memory"))
        p = statistics.median(paper)
        print(f"\npreset {preset}: {reference.parameter_count:,} parameters, vocabulary {len(reference.vocab)}, "
              f"{args.steps} steps after a 100-step seed")
        print(f"  paper loop (window re-run + argmax): median {p:.2f} s over {len(paper)} runs "
              f"({1000 * p / args.steps:.1f} ms/step)")
        print(limits_line(limits, nbytes))
        for engine in engines:
            s = statistics.median(stateful[engine])
            per_step = (s - statistics.median(short[engine])) / (args.steps - 1)
            one = statistics.median(batches[(engine, 1)])
            print(f"  stateful, {engine:5s}: median {s:.3f} s over {len(stateful[engine])} runs, {p / s:.0f}x the paper "
                  f"loop; per step {1000 * per_step:.3f} ms = {per_step / cache_limit:.2f}x the cache read limit, "
                  f"{per_step / memory_limit:.2f}x the memory read limit")
            print("    variations in one batch: " + ", ".join(
                f"{count}: {statistics.median(batches[(engine, count)]):.3f} s "
                f"({statistics.median(batches[(engine, count)]) / one:.2f}x one)" for count in VARIATIONS))
        print(f"  {ONE_PRODUCT} (the products before panels), variations in one batch: " + ", ".join(
            f"{count}: {statistics.median(batches[(ONE_PRODUCT, count)]):.3f} s "
            f"({statistics.median(batches[(ONE_PRODUCT, count)]) / statistics.median(batches[(ONE_PRODUCT, 1)]):.2f}x "
            f"one, {statistics.median(batches[(ONE_PRODUCT, count)]) / statistics.median(batches[('numpy', count)]):.2f}x "
            "panels)" for count in VARIATIONS))

if __name__ == "__main__":
    main()
