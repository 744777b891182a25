"""Training throughput: the paper's window training vs our sequence-to-sequence training, same
layer sizes (3 x LSTM(512)), the same stream of real tokens, alternating, several repeats.

    .venv/bin/python benchmarks/bench_training.py [--batches 3] [--repeats 3]

Window training (paper preset): each example is 100 ids predicting the 101st, one target per
window, 64 windows per batch. Sequence-to-sequence (default preset, paper-sized layers, 64 windows
per batch): every position of a 64-step
window is a target. Prints targets learned per second for each and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_lstm.model.backend import backend_name, device_description, import_keras  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--collection", default="essen-chinese")
    args = parser.parse_args()
    import_keras()
    from genre_lstm.model.network import ModelConfig, build_model, compile_model
    from genre_lstm.model.tokenizer import Vocabulary
    from genre_lstm.training.corpus import read_collection, split_pieces
    from genre_lstm.training.train import TrainSettings, make_datasets, pieces_to_stream

    split = split_pieces(read_collection(args.collection).pieces)
    vocab = Vocabulary.build((p.steps for p in split.train), min_count=2)
    stream = pieces_to_stream(split.train, vocab)
    variants = {}
    for name, preset, overrides, batch in (("paper window training", "paper", {}, 64),
                                           ("sequence-to-sequence", "default", {"units": [512, 512, 512]}, 64)):
        config = ModelConfig.for_preset(preset, len(vocab), **overrides)
        model = build_model(config)
        compile_model(model, config)
        data, _ = make_datasets(stream, stream, config, TrainSettings(batch_size=batch))
        x, y = data[0]
        targets = batch if preset == "paper" else batch * config.window
        model.train_on_batch(x, y)  # build and compile outside the timing
        variants[name] = (model, data, targets)
    rates = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, (model, data, targets) in variants.items():
            began = time.perf_counter()
            for index in range(1, args.batches + 1):
                x, y = data[index]
                model.train_on_batch(x, y)
            rates[name].append(targets * args.batches / (time.perf_counter() - began))
    print(f"machine: {os.cpu_count()} cores, backend {backend_name()}, device {device_description()}; "
          f"3 x LSTM(512), {args.collection} tokens, vocabulary {len(vocab)}")
    for name, values in rates.items():
        print(f"{name:24s} median {statistics.median(values):8.0f} targets/s over {len(values)} runs")
    ratio = statistics.median(rates["sequence-to-sequence"]) / statistics.median(rates["paper window training"])
    print(f"ratio: sequence-to-sequence learns {ratio:.0f}x more targets per second")


if __name__ == "__main__":
    main()
