"""One sampling step, compiled two ways, at batch 1, 4 and 16: TensorFlow graph (tf.function) vs
XLA (tf.function with jit_compile), beside the same matrix products in NumPy as a reference for
what a batch costs on this CPU. Timed side by side, alternating, medians.

    .venv/bin/python benchmarks/bench_step.py [--preset paper] [--calls 300] [--repeats 3]
    .venv/bin/python benchmarks/bench_step.py --threads   # TensorFlow's intra-op threads: all vs 1

Why: batching variations is only free when reading the weights dominates; this shows where a
batch of 4 stops being free on this machine, and whether XLA lowers the per-step cost. With
``--threads`` the same measurement runs in child processes, alternately with TensorFlow's default
intra-op threads and with one (a thread count is fixed once TensorFlow starts).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sampling import make_checkpoint  # noqa: E402

from genre_lstm.model.backend import backend_name, hardware_description, import_keras  # noqa: E402

BATCHES = (1, 4, 16)


def compiled_steps(checkpoint) -> dict:
    """The step model as a TF graph and as XLA (TensorFlow backend only)."""
    import tensorflow as tf

    from genre_lstm.model.network import inference_models

    _, step = inference_models(checkpoint.model, checkpoint.config)
    signature = [[tf.TensorSpec(t.shape, t.dtype) for t in step.inputs]]
    return {name: tf.function(lambda inputs: step(inputs, training=False), input_signature=signature, jit_compile=jit)
            for name, jit in (("graph", False), ("XLA", True))}


def step_inputs(config, batch: int) -> tuple[list, list]:
    """The step model's fixed inputs (zeros) and its initial states."""
    import numpy as np

    from genre_lstm.model.network import input_names

    if config.preset == "paper":
        fixed = [np.zeros((batch, 1, 1), np.float32)]
    else:
        fixed = [np.zeros((batch, 1), np.int32)] * len(input_names(config))
    return fixed, [np.zeros((batch, units), np.float32) for units in config.units for _ in "hc"]


def time_calls(call, inputs: tuple[list, list], outputs: int, calls: int) -> float:
    """Seconds per step, feeding the states back as a sampler does (``outputs``: how many non-state
    outputs come before the new states)."""
    import numpy as np

    fixed, states = inputs
    out = call(fixed + states)
    began = time.perf_counter()
    for _ in range(calls):
        out = call(fixed + list(out[outputs:]))
        np.asarray(out[0])
    return (time.perf_counter() - began) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", choices=("paper", "default"))
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", action="store_true", help="compare TensorFlow's intra-op threads: all vs 1")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # a child of --threads
    args = parser.parse_args()
    if args.threads:
        return compare_threads(args)
    import_keras()
    if backend_name() != "tensorflow":
        raise SystemExit("this benchmark compares TensorFlow's graph and XLA compilation")
    import numpy as np

    print(f"machine: {hardware_description()}")
    for preset in args.preset or ["paper", "default"]:
        checkpoint = make_checkpoint(preset, 500, Path(tempfile.mkdtemp()) / "ck")
        config = checkpoint.config
        outputs = 1 if preset == "paper" else 3
        steps = compiled_steps(checkpoint)
        kernels = [(layer.cell.kernel.numpy(), layer.cell.recurrent_kernel.numpy())
                   for layer in checkpoint.model.layers if type(layer).__name__ == "LSTM"]
        timings = {(name, b): [] for name in [*steps, "NumPy LSTM products"] for b in BATCHES}
        for _ in range(args.repeats):
            for batch in BATCHES:
                for name, call in steps.items():
                    timings[(name, batch)].append(time_calls(call, step_inputs(config, batch), outputs, args.calls))
                xs = [np.ones((batch, kernel.shape[0]), np.float32) for kernel, _ in kernels]
                hs = [np.ones((batch, recurrent.shape[0]), np.float32) for _, recurrent in kernels]
                began = time.perf_counter()
                for _ in range(args.calls):
                    for (kernel, recurrent), x, h in zip(kernels, xs, hs):
                        x @ kernel + h @ recurrent
                timings[("NumPy LSTM products", batch)].append((time.perf_counter() - began) / args.calls)
        if args.json:
            print(json.dumps({preset: {f"{name}|{b}": statistics.median(v) for (name, b), v in timings.items()}}))
            continue
        print(f"\npreset {preset} ({checkpoint.parameter_count:,} parameters), ms per step, median of {args.repeats}:")
        for name in [*steps, "NumPy LSTM products"]:
            values = [statistics.median(timings[(name, b)]) for b in BATCHES]
            print(f"  {name:22s} " + ", ".join(f"batch {b}: {1000 * v:.3f} ms ({v / values[0]:.2f}x)"
                                                for b, v in zip(BATCHES, values)))


def compare_threads(args) -> None:
    """Children with all intra-op threads and with one, alternating; medians over the children."""
    presets = args.preset or ["paper", "default"]
    runs: dict = {}
    for _ in range(args.repeats):
        for threads in ("all", "1"):
            env = dict(os.environ)
            if threads == "1":
                env["TF_NUM_INTRAOP_THREADS"] = "1"
            command = [sys.executable, __file__, "--json", "--repeats", "1", "--calls", str(args.calls)]
            command += [f"--preset={p}" for p in presets]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                if line.startswith("{"):
                    for preset, figures in json.loads(line).items():
                        for key, value in figures.items():
                            runs.setdefault((preset, threads, key), []).append(value)
    print(f"machine: {os.cpu_count()} CPU cores; ms per step, medians of {args.repeats} child runs each")
    for preset in presets:
        print(f"\npreset {preset}:")
        for threads in ("all", "1"):
            for name in ("graph", "XLA"):
                values = [statistics.median(runs[(preset, threads, f"{name}|{b}")]) for b in BATCHES]
                print(f"  intra-op threads {threads:3s} {name:5s} " + ", ".join(
                    f"batch {b}: {1000 * v:.3f} ms ({v / values[0]:.2f}x)" for b, v in zip(BATCHES, values)))


if __name__ == "__main__":
    main()
