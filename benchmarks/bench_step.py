"""One sampling step on every path at batch 1, 4 and 16: NumPy array products (the CPU's path; a
few rows panel by panel, and "one product": every product one matrix product), the Keras step
model as a TensorFlow graph, and compiled with XLA, beside the time to read the step's weights
once from cache and from memory, measured in the same run. Timed side by side, alternating, medians.

    .venv/bin/python benchmarks/bench_step.py [--preset paper] [--calls 300] [--repeats 2]
    .venv/bin/python benchmarks/bench_step.py --threads   # TensorFlow's intra-op threads: all vs 1

Each repeat runs one child process per environment, alternating: as this shell has the OpenBLAS
variables (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) and without them, as a user's machine has it (the
variables are read once when NumPy starts, so only a new process sees a change). With
``--threads`` the children alternate TensorFlow's default intra-op threads and one.

Why: the path is chosen by a rule (``backend.choose_engine``: NumPy on a CPU); this is the
measurement behind it and behind ``numpy_step.PANEL_ROWS`` (the row counts multiplied by panels),
and shows where a batch of 4 stops being free.
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

from bench_sampling import (  # noqa: E402
    make_checkpoint,
    numpy_step_bytes,
    one_product,
    openblas_variants,
    weight_read_limits,
)

from genre_lstm.model.backend import backend_name, hardware_description, import_keras  # noqa: E402

BATCHES = (1, 4, 16)
PATHS = ("NumPy", "NumPy, one product", "graph", "XLA")


def step_calls(checkpoint) -> dict:
    """The step on each path, all with the flat list convention [inputs..., states...]."""
    import tensorflow as tf

    from genre_lstm.model.network import inference_models
    from genre_lstm.model.numpy_step import numpy_inference

    _, step = inference_models(checkpoint.model, checkpoint.config)
    signature = [[tf.TensorSpec(t.shape, t.dtype) for t in step.inputs]]
    inference = numpy_inference(checkpoint.model, checkpoint.config)
    calls = {"NumPy": inference.step, "NumPy, one product": one_product(inference.step)}
    for name, jit in (("graph", False), ("XLA", True)):
        calls[name] = tf.function(lambda inputs: step(inputs, training=False), input_signature=signature,
                                  jit_compile=jit)
    return calls


def step_inputs(config, batch: int) -> tuple[list, list]:
    """The step model's fixed inputs (zeros) and its initial states."""
    import numpy as np

    from genre_lstm.model.network import input_names

    if config.preset == "paper":
        fixed = [np.zeros((batch, 1, 1), np.float32)]
    else:
        fixed = [np.zeros((batch, 1), np.int32)] * len(input_names(config))
    return fixed, [np.zeros((batch, units), np.float32) for units in config.units for _ in "hc"]


def time_calls(call, inputs: tuple[list, list], outputs: int, calls: int, blocks: int = 3) -> float:
    """Seconds per step, feeding the states back as a sampler does (``outputs``: how many non-state
    outputs come before the new states): the median of ``blocks`` blocks of ``calls`` steps, after a
    pause (a framework's or BLAS's idle threads spin for a while after work, and would slow the next
    path down)."""
    import numpy as np

    fixed, states = inputs
    time.sleep(0.5)
    out = call(fixed + states)
    seconds = []
    for _ in range(blocks):
        began = time.perf_counter()
        for _ in range(calls):
            out = call(fixed + list(out[outputs:]))
            np.asarray(out[0])
        seconds.append((time.perf_counter() - began) / calls)
    return statistics.median(seconds)


def measure(presets: list[str], calls: int) -> dict:
    """One child's figures: seconds per step by preset, path and batch, and the read limits."""
    import_keras()
    if backend_name() != "tensorflow":
        raise SystemExit("this benchmark compares NumPy with TensorFlow's graph and XLA compilation")
    from genre_lstm.model.numpy_step import numpy_inference

    figures = {}
    for preset in presets:
        checkpoint = make_checkpoint(preset, 500, Path(tempfile.mkdtemp()) / "ck")
        outputs = 1 if preset == "paper" else 3
        paths = step_calls(checkpoint)
        times = {f"{name}|{batch}": time_calls(call, step_inputs(checkpoint.config, batch), outputs, calls)
                 for name, call in paths.items() for batch in BATCHES}
        nbytes = numpy_step_bytes(numpy_inference(checkpoint.model, checkpoint.config))
        limits = weight_read_limits(nbytes)
        times.update({f"{where} limit": min(ways.values()) for where, ways in limits.items()})
        figures[preset] = {"times": times, "bytes": nbytes, "parameters": checkpoint.parameter_count}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", choices=("paper", "default"))
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", action="store_true", help="compare TensorFlow's intra-op threads: all vs 1")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args()
    presets = args.preset or ["paper", "default"]
    if args.json:
        print(json.dumps(measure(presets, args.calls)))
        return
    if args.threads:
        variants = {"intra-op threads all": dict(os.environ), "intra-op threads 1": {**os.environ,
                                                                                     "TF_NUM_INTRAOP_THREADS": "1"}}
    else:
        variants = openblas_variants()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    runs: dict = {}
    info: dict = {}
    for _ in range(args.repeats):
        for label, env in variants.items():
            command = [sys.executable, __file__, "--json", "--calls", str(args.calls), *[f"--preset={p}" for p in presets]]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            for preset, figures in json.loads(out.strip().splitlines()[-1]).items():
                info[preset] = figures
                for key, value in figures["times"].items():
                    runs.setdefault((preset, label, key), []).append(value)
    import_keras()
    print(f"machine: {hardware_description()}; ms per step, medians of {args.repeats} child runs each")
    for preset in presets:
        nbytes = info[preset]["bytes"]
        print(f"\npreset {preset} ({info[preset]['parameters']:,} parameters; the NumPy step reads {nbytes / 1e6:.1f} MB):")
        for label in variants:
            median = {key: statistics.median(runs[(preset, label, key)]) for key in info[preset]["times"]}
            cache, memory = median["cache limit"], median["memory limit"]
            print(f"  {label}: read limit {1000 * cache:.3f} ms from cache, {1000 * memory:.3f} ms from memory")
            for name in PATHS:
                values = [median[f"{name}|{b}"] for b in BATCHES]
                print(f"    {name:18s} " + ", ".join(f"batch {b}: {1000 * v:.3f} ms ({v / values[0]:.2f}x)"
                                               for b, v in zip(BATCHES, values))
                      + f"; batch 1 = {values[0] / cache:.2f}x the cache limit")


if __name__ == "__main__":
    main()
