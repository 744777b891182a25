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

from genre_lstm.backend import backend_name, device_description, import_keras  # noqa: E402


def make_checkpoint(preset: str, vocab_size: int, folder: Path):
    from genre_lstm.checkpoint import load_checkpoint, save_checkpoint
    from genre_lstm.events import pitches_to_token
    from genre_lstm.model import ModelConfig, build_model
    from genre_lstm.tokenizer import SPECIAL_TOKENS, Vocabulary

    chords = [pitches_to_token((36 + i % 60, 36 + i % 60 + 4 + i // 60)) if i >= 60 else pitches_to_token((36 + i,))
              for i in range(vocab_size - len(SPECIAL_TOKENS))]
    vocab = Vocabulary([*SPECIAL_TOKENS, *chords])
    config = ModelConfig.for_preset(preset, len(vocab))
    import keras

    keras.utils.set_random_seed(0)
    save_checkpoint(folder, build_model(config), config, vocab, float16=False)
    return load_checkpoint(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="paper", choices=("paper", "default"))
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2, help="runs of the paper loop (stateful runs 3x as many)")
    parser.add_argument("--vocab-size", type=int, default=500)
    args = parser.parse_args()
    import_keras()
    import numpy as np

    from genre_lstm.events import Step
    from genre_lstm.generate import GenerationSettings, generate, paper_window_generate

    checkpoint = make_checkpoint(args.preset, args.vocab_size, Path(tempfile.mkdtemp()) / "ck")
    rng = np.random.default_rng(0)
    seed = [Step(checkpoint.vocab.pitches_of(int(t)), 0.5, 0.5) for t in rng.integers(2, len(checkpoint.vocab), 100)]
    settings = GenerationSettings(length=args.steps, random_seed=1)
    generate(checkpoint, seed, GenerationSettings(length=5))  # compile once, outside the timing
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
        print(f"  paper {paper[-1]:.1f} s, stateful {statistics.median(stateful[-3:]):.2f} s", flush=True)
    p, s = statistics.median(paper), statistics.median(stateful)
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"backend {backend_name()}, device {device_description()}")
    print(f"preset {args.preset}, {checkpoint.parameter_count:,} parameters, vocabulary {len(checkpoint.vocab)}, "
          f"{args.steps} steps after a 100-step seed")
    print(f"paper loop (window re-run + argmax): median {p:.2f} s over {len(paper)} runs ({1000 * p / args.steps:.1f} ms/step)")
    print(f"stateful sampler:                    median {s:.3f} s over {len(stateful)} runs ({1000 * s / args.steps:.2f} ms/step)")
    print(f"ratio: stateful is {p / s:.0f}x faster")


if __name__ == "__main__":
    main()
