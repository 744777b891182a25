"""The one place that knows which Keras backend runs: compiled inference calls and device names.

Model code stays in Keras layers and ``keras.ops``; compiling a call is backend-specific, so it
lives here (``tf.function`` on TensorFlow, ``jax.jit`` over ``stateless_call`` on JAX, no-grad
eager calls on PyTorch).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def backend_name() -> str:
    import keras

    return keras.backend.backend()


def compile_inference(model, numpy_outputs: int | None = None, *, fixed_shapes: bool = False) -> Callable[[Sequence], list]:
    """``model(inputs, training=False)`` compiled once for the backend.

    The first ``numpy_outputs`` outputs come back as numpy arrays (all when None); the rest stay
    backend tensors, so LSTM states can be fed back in without a copy through numpy.
    ``fixed_shapes`` (the one-step model: only the batch size varies) also compiles with XLA on
    TensorFlow, which cut a step by 16-20% here (benchmarks/bench_step.py); JAX always uses XLA.
    """
    import keras

    name = backend_name()
    if name == "tensorflow":
        import tensorflow as tf

        signature = [[tf.TensorSpec(t.shape, t.dtype) for t in model.inputs]]
        call = tf.function(lambda inputs: model(inputs, training=False), input_signature=signature,
                           jit_compile=fixed_shapes)
    elif name == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        fixed = [v.value for v in model.non_trainable_variables]
        jitted = jax.jit(lambda t, f, inputs: model.stateless_call(t, f, inputs, training=False)[0])

        def call(inputs):
            return jitted(trainable, fixed, inputs)
    elif name == "torch":
        import torch

        def call(inputs):
            with torch.no_grad():
                return model([keras.ops.convert_to_tensor(x) for x in inputs], training=False)
    else:
        def call(inputs):
            return model(inputs, training=False)

    def run(inputs: Sequence) -> list:
        outputs = list(call(list(inputs)))
        count = len(outputs) if numpy_outputs is None else numpy_outputs
        return [np.asarray(keras.ops.convert_to_numpy(o)) for o in outputs[:count]] + outputs[count:]

    return run


def repeat_rows(value, copies: int):
    """Each row of a NumPy array or backend tensor repeated ``copies`` times along the batch axis."""
    if isinstance(value, np.ndarray):
        return np.repeat(value, copies, axis=0)
    import keras

    return keras.ops.repeat(value, copies, axis=0)


ENGINES = ("numpy", "keras")


def choose_engine() -> str:
    """Which path runs inference: "keras" when Keras has a GPU, else "numpy" (plain array products).

    On a CPU a sampling step is a few matrix-vector products and a framework call costs more than
    they do: NumPy was faster at batch 1, 4 and 16 for both presets (benchmarks/bench_step.py,
    BENCHMARKS.md). ``GENRE_LSTM_ENGINE`` set to "numpy" or "keras" overrides the rule.
    """
    from ..environment import ENGINE

    chosen = ENGINE.get()
    if chosen:
        if chosen not in ENGINES:
            from ..errors import InvalidParameterError

            raise InvalidParameterError(f"{ENGINE.name} must be one of {', '.join(ENGINES)}, not {chosen!r}")
        return chosen
    return "keras" if not device_description().startswith("CPU") else "numpy"


def device_description() -> str:
    """What inference runs on, for display: 'CPU' or the GPU's name, with the backend."""
    name = backend_name()
    gpu = None
    try:
        if name == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                gpu = details.get("device_name", "GPU")
        elif name == "jax":
            import jax

            device = jax.devices()[0]
            gpu = device.device_kind if device.platform != "cpu" else None
        elif name == "torch":
            import torch

            gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # a broken driver must not stop generation; report the CPU
        gpu = None
    return f"{gpu or 'CPU'} ({name})"


def hardware_description() -> str:
    """The machine a figure was measured on: device, backend and CPU cores."""
    import os
    import platform

    return f"{device_description()}, {os.cpu_count()} CPU cores ({platform.machine()})"


def import_keras():
    """Import Keras (and its backend) once, with the backend's C-level start-up chatter silenced.

    TensorFlow prints oneDNN and "could not find cuda drivers" lines to the process's stderr even
    with TF_CPP_MIN_LOG_LEVEL=3; the command line promises one line on error, so they go to
    /dev/null for the duration of the import. Python errors still propagate normally.
    """
    import os
    import sys

    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import keras
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras
