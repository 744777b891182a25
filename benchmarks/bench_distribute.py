"""Training throughput on one device vs DataParallel over two devices (JAX backend), same global batch.

    flock -x /tmp/genre-lstm-cpu.lock .venv/bin/python benchmarks/bench_distribute.py \
        [--devices 2] [--batch-size 32] [--batches 6] [--repeats 3] [--collection essen-chinese]

On a CPU the devices are XLA host devices (set here through XLA_FLAGS before JAX starts), which
share the machine's cores; on a GPU machine they are the visible GPUs. The default preset (the
shipped genres' network) trains on real tokens of the collection; both variants are built and
compiled outside the timing and then run alternately. Prints targets learned per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=2, help="XLA host devices to make on a CPU machine")
    parser.add_argument("--batch-size", type=int, default=32, help="global batch")
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--collection", default="essen-chinese")
    args = parser.parse_args()
    os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={args.devices}")
    from genre_lstm.training.distribute import data_parallel, select_backend

    select_backend()
    import jax

    from genre_lstm.model.backend import hardware_description
    from genre_lstm.model.network import ModelConfig, build_model, compile_model
    from genre_lstm.model.tokenizer import Vocabulary
    from genre_lstm.training.corpus import read_collection, split_pieces
    from genre_lstm.training.train import TrainSettings, make_datasets, pieces_to_stream

    split = split_pieces(read_collection(args.collection).pieces)
    vocab = Vocabulary.build((p.steps for p in split.train), min_count=2)
    stream = pieces_to_stream(split.train, vocab)
    config = ModelConfig.for_preset("default", len(vocab))
    settings = TrainSettings(batch_size=args.batch_size)
    distribution = data_parallel(args.batch_size)
    variants = {}
    for name, scope in (("1 device", None), (f"{jax.device_count()} devices (DataParallel)", distribution)):
        with scope.scope() if scope else _nothing():
            model = build_model(config)
            compile_model(model, config)
            data, _ = make_datasets(stream, stream, config, settings)
            model.train_on_batch(*data[0])  # build and compile outside the timing
        variants[name] = (scope, model, data)
    rates = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, (scope, model, data) in variants.items():
            with scope.scope() if scope else _nothing():
                began = time.perf_counter()
                for index in range(1, args.batches + 1):
                    model.train_on_batch(*data[index])
                rates[name].append(args.batch_size * config.window * args.batches / (time.perf_counter() - began))
    print(f"{hardware_description()}; {jax.device_count()} JAX devices: {jax.devices()}")
    print(f"default preset {config.units} on {args.collection}, global batch {args.batch_size} x "
          f"{config.window} steps, {args.batches} batches x {args.repeats} repeats")
    for name, values in rates.items():
        print(f"  {name}: {statistics.median(values):8.0f} targets/s (median; runs {[round(v) for v in values]})")
    first, second = (statistics.median(v) for v in rates.values())
    print(f"speed-up: {second / first:.2f}x")


def _nothing():
    import contextlib

    return contextlib.nullcontext()


if __name__ == "__main__":
    main()
