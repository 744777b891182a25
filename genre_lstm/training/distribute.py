"""Data-parallel training on the JAX backend: every visible device of one machine, or of several.

Keras's ``DataParallel`` keeps one copy of the weights on every device and splits each batch
across them; the gradients are averaged, so a step on N devices is the step one device takes on
the same batch. ``TrainSettings.batch_size`` is therefore the GLOBAL batch (each device gets
``batch_size / devices`` windows) and the learning rate keeps its meaning: the same global batch
and learning rate give the same loss curve on any number of devices. To use more devices for
speed, raise the global batch (a multiple of the device count); a larger batch usually wants a
larger learning rate, which is left to the user.

Several machines: start the same command on each, with ``JAX_COORDINATOR_ADDRESS`` (host:port of
process 0), ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID`` set (on SLURM or Open MPI, JAX finds the
last two itself); ``jax.distributed.initialize`` joins them before Keras touches a device. Each
process feeds its own rows of every global batch; process 0 writes the checkpoint to ``--out``,
the others to ``<out>.process<N>`` (identical weights), so a shared filesystem never sees two
writers of one file. The checkpoint format is the usual one and loads on TensorFlow.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DistributeError

BACKEND = "jax"
SETUP_COMMAND = "bash scripts/setup.sh --train"
# Set on every machine of a multi-machine run (JAX reads the first; we pass on the other two).
COORDINATOR_VARIABLE, PROCESSES_VARIABLE, PROCESS_ID_VARIABLE = (
    "JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")
# Cluster managers whose variables JAX reads by itself: (variable holding the task count, ...).
CLUSTER_TASK_VARIABLES = ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE")


@dataclass(frozen=True)
class Layout:
    """Where a global batch goes: ``devices`` in all, this process owning ``devices / processes``."""

    devices: int
    processes: int
    process_index: int

    def local_rows(self, rows: np.ndarray) -> np.ndarray:
        """This process's share of a global batch's rows, the batch cut to a multiple of the device
        count (a short last batch loses at most ``devices - 1`` windows)."""
        usable = len(rows) - len(rows) % self.devices
        share = usable // self.processes
        return rows[self.process_index * share: (self.process_index + 1) * share]

    def batch_count(self, windows: int, batch_size: int) -> int:
        """Batches of ``windows`` once each is cut to a multiple of the device count."""
        full, rest = divmod(windows, batch_size)
        return full + (rest >= self.devices)


def batch_count(windows: int, batch_size: int, layout: Layout | None) -> int:
    """Batches per epoch: every window once, a short last batch kept only if each device gets one."""
    return layout.batch_count(windows, batch_size) if layout else math.ceil(windows / batch_size)


def local_rows(rows: np.ndarray, layout: Layout | None) -> np.ndarray:
    """The rows of a global batch that this process feeds (all of them on one device)."""
    return layout.local_rows(rows) if layout else rows


def select_backend() -> None:
    """Make JAX the Keras backend before Keras is imported; a clear error when it cannot be.

    Without ``KERAS_BACKEND`` set, ``--distribute`` chooses JAX; a backend named otherwise, or
    Keras already running another one, is refused, as is a missing JAX.
    """
    named = sys.modules["keras"].backend.backend() if "keras" in sys.modules else os.environ.get("KERAS_BACKEND")
    if named and named != BACKEND:
        raise DistributeError(f"distributed training needs the JAX backend, not {named}: "
                              f"run {SETUP_COMMAND} and set KERAS_BACKEND=jax")
    try:
        import jax  # noqa: F401
    except ImportError as error:
        raise DistributeError(f"distributed training needs JAX, which is not installed: run {SETUP_COMMAND}") from error
    os.environ["KERAS_BACKEND"] = BACKEND


def prepare_distribution() -> int:
    """``select_backend`` then ``join_processes``: what ``genre-lstm train --distribute`` does first."""
    select_backend()
    return join_processes()


def join_processes() -> int:
    """Start ``jax.distributed`` when this is one process of several (see the module docstring);
    returns the number of processes. Must run before anything asks JAX for its devices."""
    if not _is_multi_process():
        return 1
    import jax

    try:
        jax.distributed.initialize(num_processes=_int_variable(PROCESSES_VARIABLE),
                                   process_id=_int_variable(PROCESS_ID_VARIABLE))
    except (ValueError, TypeError, RuntimeError) as error:
        raise DistributeError(f"cannot join the other training processes: {error}") from error
    return jax.process_count()


def data_parallel(batch_size: int):
    """``keras.distribution.DataParallel`` over every visible device (of every process), checked
    against the global batch size."""
    import keras

    devices = keras.distribution.list_devices()
    if batch_size % len(devices):
        raise DistributeError(f"the global batch size {batch_size} does not split evenly across "
                              f"{len(devices)} devices; use a multiple of {len(devices)}")
    return keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)  # our batches shard themselves


def current_layout() -> Layout | None:
    """The layout of the active data-parallel distribution, or None when training on one device."""
    import keras

    distribution = keras.distribution.distribution() if keras.backend.backend() == BACKEND else None
    if distribution is None:
        return None
    import jax

    return Layout(int(np.prod(distribution.device_mesh.shape)), jax.process_count(), jax.process_index())


def agreed(flag: bool) -> bool:
    """Process 0's ``flag`` on every process of a multi-process run (the flag itself otherwise).

    Stopping (time budget, a stop request) is decided by each process's own clock; processes
    that stopped at different steps would wait on each other's gradients forever, so they all
    follow process 0. One tiny broadcast per call, and only with several processes.
    """
    import keras

    if keras.backend.backend() != BACKEND:
        return flag
    import jax

    if jax.process_count() == 1:
        return flag
    from jax.experimental import multihost_utils

    return bool(multihost_utils.broadcast_one_to_all(np.asarray(flag)))


def process_out_dir(out_dir: str | Path) -> Path:
    """Where this process writes its checkpoint: ``out_dir`` on process 0, else a sibling."""
    import jax

    out_dir = Path(out_dir)
    index = jax.process_index()
    return out_dir if index == 0 else out_dir.with_name(f"{out_dir.name}.process{index}")


def train_data_parallel(pieces, out_dir: str | Path, *, settings, info: dict | None = None, **options):
    """``train_checkpoint`` under ``DataParallel`` over every device; the result is an ordinary
    checkpoint. Call ``select_backend`` and ``join_processes`` first (before Keras is imported)."""
    from .train import train_checkpoint

    settings.check()
    distribution = data_parallel(settings.batch_size)
    devices = int(np.prod(distribution.device_mesh.shape))
    info = {**(info or {}), "distribution": {
        "strategy": "DataParallel", "backend": BACKEND, "devices": devices,
        "processes": _process_count(), "global_batch": settings.batch_size,
        "per_device_batch": settings.batch_size // devices}}
    with distribution.scope():
        return train_checkpoint(pieces, process_out_dir(out_dir), settings=settings, info=info, **options)


def _process_count() -> int:
    import jax

    return jax.process_count()


def _is_multi_process() -> bool:
    if os.environ.get(COORDINATOR_VARIABLE) or os.environ.get(PROCESSES_VARIABLE):
        return True
    return any((_int_variable(name) or 1) > 1 for name in CLUSTER_TASK_VARIABLES)


def _int_variable(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as error:
        raise DistributeError(f"{name} must be a whole number, not {value!r}") from error
