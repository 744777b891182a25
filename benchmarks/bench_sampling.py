"""Paper's sampling loop vs our stateful sampler on the same weights, timed side by side.

    .venv/bin/python benchmarks/bench_sampling.py [--preset paper] [--steps 500] [--repeats 2]

Builds an untrained network of the preset (the same weights for both variants), a 100-step seed,
then alternates: the paper's loop (model.predict on the last 100 ids per step, argmax) and our
stateful sampler (seed once, then one compiled step per note). Prints the medians and the ratio.
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


def memory_bandwidth_gbs(megabytes: int = 512, repeats: int = 5) -> float:
    """Copy bandwidth of this machine (bytes read + written per second), best of ``repeats``."""
    import numpy as np

    source = np.ones(megabytes * 2**20 // 8)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - began)
    return 2 * source.nbytes / best / 1e9


def step_weight_bytes(checkpoint) -> int:
    """Bytes of float32 weights one sampling step reads: the LSTMs and the output heads."""
    used = [layer for layer in checkpoint.model.layers if layer.name.startswith(
        ("lstm", "token_logits", "duration_logits", "shift_logits", "dense", "batch_norm"))]
    return sum(int(w.size) * 4 for layer in used for w in layer.get_weights())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", choices=("paper", "default"))
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2, help="runs of the paper loop (stateful runs 3x as many)")
    parser.add_argument("--vocab-size", type=int, default=500)
    args = parser.parse_args()
    import_keras()
    import numpy as np

    from genre_lstm.model.generate import generate, paper_window_generate
    from genre_lstm.music.events import Step
    from genre_lstm.request import FIELD, GenerationRequest

    bandwidth = memory_bandwidth_gbs()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"backend {backend_name()}, device {device_description()}, copy bandwidth {bandwidth:.1f} GB/s")
    for preset in args.preset or ["paper", "default"]:
        checkpoint = make_checkpoint(preset, args.vocab_size, Path(tempfile.mkdtemp()) / "ck")
        rng = np.random.default_rng(0)
        seed = [Step(checkpoint.vocab.pitches_of(int(t)), 0.5, 0.5) for t in rng.integers(2, len(checkpoint.vocab), 100)]
        settings = GenerationRequest(length=args.steps, random_seed=1)
        generate(checkpoint, seed, GenerationRequest(length=5, variations=FIELD["variations"].high))  # compile outside the timing
        paper_window_generate(checkpoint, seed, 2)
        paper, stateful = [], []
        for _ in range(args.repeats):
            for _ in range(3):
                began = time.perf_counter()
                generate(checkpoint, seed, settings)
                stateful.append(time.perf_counter() - began)
            began = time.perf_counter()
            paper_window_generate(checkpoint, seed, args.steps)
            paper.append(time.perf_counter() - began)
        batches = {1: [], 4: []}  # the request's limit of variations
        for _ in range(3):
            for count in batches:
                began = time.perf_counter()
                generate(checkpoint, seed, GenerationRequest(length=args.steps, random_seed=1, variations=count))
                batches[count].append(time.perf_counter() - began)
        # per step without the seed pass: time 500 steps minus time 1 step, over 499
        short = []
        for _ in range(5):
            began = time.perf_counter()
            generate(checkpoint, seed, GenerationRequest(length=1, random_seed=1))
            short.append(time.perf_counter() - began)
        p, s = statistics.median(paper), statistics.median(stateful)
        per_step = (s - statistics.median(short)) / (args.steps - 1)
        weights = step_weight_bytes(checkpoint)
        floor = weights / (bandwidth * 1e9 / 2)  # reading the weights once: half the copy traffic
        print(f"\npreset {preset}: {checkpoint.parameter_count:,} parameters, vocabulary {len(checkpoint.vocab)}, "
              f"{args.steps} steps after a 100-step seed")
        print(f"  paper loop (window re-run + argmax): median {p:.2f} s over {len(paper)} runs ({1000 * p / args.steps:.1f} ms/step)")
        print(f"  stateful sampler:                    median {s:.3f} s over {len(stateful)} runs")
        print(f"  ratio: stateful is {p / s:.0f}x faster")
        print(f"  per step: {1000 * per_step:.2f} ms; weights read per step {weights / 1e6:.1f} MB; "
              f"floor at {bandwidth / 2:.1f} GB/s read: {1000 * floor:.2f} ms; {per_step / floor:.2f}x the floor")
        one = statistics.median(batches[1])
        print("  variations in one batch: " + ", ".join(
            f"{count}: {statistics.median(v):.3f} s ({statistics.median(v) / one:.2f}x one)" for count, v in batches.items()))


if __name__ == "__main__":
    main()
