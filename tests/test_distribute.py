"""Data-parallel training on two XLA host devices (JAX backend, in a child process) against one device.

JAX is installed by the test setup (requirements-dev.txt includes requirements-train.txt); the
tests that need it skip only when it is absent.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_file

from genre_lstm.cli import main

ROOT = Path(__file__).resolve().parent.parent
needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="JAX is not installed (bash scripts/setup.sh --train)")
LOSS_TOLERANCE = 1e-5  # relative, per epoch: the same sums in another order, float32 (seen: 1e-7)

# Trains the same tiny model twice on 50 real tunes: on one device, then DataParallel over two
# host devices at the same global batch, and reports both loss curves and how a batch is placed.
# These tunes give an even number of windows in every batch, so no window is dropped (a short
# last batch with an odd count loses one window on two devices, which moves the loss by ~0.3%).
TWO_DEVICE_RUN = """
import json, sys
from pathlib import Path
from genre_lstm.training.distribute import prepare_distribution, data_parallel, train_data_parallel
prepare_distribution()
import jax, keras
from genre_lstm.store.checkpoint import load_checkpoint
from genre_lstm.training.corpus import read_pieces
from genre_lstm.training.train import TrainSettings, train_checkpoint

pieces = read_pieces([sys.argv[1]]).pieces
out = Path(sys.argv[2])
def settings():
    return TrainSettings(epochs=2, batch_size=8, patience=10, random_seed=3, verbose=0,
                         model={"units": [24, 24], "embed_dim": 8})
one = train_checkpoint(pieces, out / "one", settings=settings())
two = train_data_parallel(pieces, out / "two", settings=settings())
layout = data_parallel(8).get_data_layout((8, 64)).backend_layout
try:
    data_parallel(7)
    refused = None
except Exception as error:
    refused = f"{type(error).__name__}: {error}"
print(json.dumps({"refused": refused, "devices": jax.device_count(), "one": one.history, "two": two.history,
                  "shard_rows": layout.shard_shape((8, 64))[0], "shards": len(layout.device_set),
                  "info": load_checkpoint(out / "two").info["distribution"]}))
"""


def _child_env(tmp_path, **extra) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT), **extra}
    env["GENRE_LSTM_CACHE"] = str(tmp_path / "cache")
    return env


@needs_jax
def test_two_host_devices_follow_the_one_device_loss_curve(tmp_path):
    env = _child_env(tmp_path, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    done = subprocess.run([sys.executable, "-c", TWO_DEVICE_RUN, str(corpus_file("oneills1850/0001-0050.abc")),
                           str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["refused"] == ("DistributeError: the global batch size 7 does not split evenly across "
                                 "2 devices; use a multiple of 2")
    assert result["devices"] == 2 and result["shards"] == 2 and result["shard_rows"] == 4  # the batch is split
    assert result["info"] == {"strategy": "DataParallel", "backend": "jax", "devices": 2, "processes": 1,
                              "global_batch": 8, "per_device_batch": 4}
    for key in ("loss", "val_loss"):
        one = np.array([epoch[key] for epoch in result["one"]])
        two = np.array([epoch[key] for epoch in result["two"]])
        assert len(one) == 2 and one[1] < one[0]  # it learns
        np.testing.assert_allclose(two, one, rtol=LOSS_TOLERANCE)


TRAIN_ARGS = ["--name", "dp-tunes", "--size", "small", "--epochs", "1", "--distribute", "--batch-size", "16"]


def _train_command(data: Path, out: Path) -> list[str]:
    """``genre-lstm train --distribute`` on ``data`` as a child's command line."""
    code = "import sys; from genre_lstm.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "train", "--data", str(data), *TRAIN_ARGS, "--out", str(out)]


@pytest.fixture(scope="module")
def tune_folder(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("tunes")
    (data / "book.abc").write_bytes(corpus_file("oneills1850/0001-0050.abc").read_bytes())
    return data


@pytest.fixture(scope="module")
def two_device_checkpoint(tune_folder, tmp_path_factory) -> Path:
    """The command line's --distribute run on two XLA host devices in one process."""
    folder = tmp_path_factory.mktemp("two-devices")
    env = _child_env(folder, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    done = subprocess.run(_train_command(tune_folder, folder / "ck"), env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "ck"


@needs_jax
def test_the_data_parallel_checkpoint_loads_and_generates_on_tensorflow(two_device_checkpoint, tmp_path, capsys):
    """The checkpoint format is unchanged: trained on JAX with --distribute, generated here on TensorFlow."""
    from genre_lstm.store.checkpoint import load_checkpoint

    assert load_checkpoint(two_device_checkpoint).info["distribution"]["devices"] == 2
    assert main(["generate", "--checkpoint", str(two_device_checkpoint), "--length", "40", "--no-audio",
                 "--out", str(tmp_path / "gen")]) == 0
    assert Path(capsys.readouterr().out.split()[0]).stat().st_size > 100


@needs_jax
def test_two_processes_joined_by_jax_distributed_train_as_one_process_with_two_devices(
        two_device_checkpoint, tune_folder, tmp_path):
    """Several machines, played by two processes of one CPU device each on this machine
    (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID): each feeds its half of every
    batch; both end with the weights and the held-out loss of the one-process two-device run."""
    from genre_lstm.store.checkpoint import load_checkpoint

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    children = [subprocess.Popen(_train_command(tune_folder, tmp_path / "ck"), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 env=_child_env(tmp_path, JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
                                                JAX_NUM_PROCESSES="2", JAX_PROCESS_ID=str(index)))
                for index in (0, 1)]
    for child in children:
        _, error = child.communicate(timeout=600)
        assert child.returncode == 0, error[-3000:]
    first = load_checkpoint(tmp_path / "ck")
    reference = load_checkpoint(two_device_checkpoint)
    assert first.info["distribution"] == {**reference.info["distribution"], "processes": 2}
    assert (tmp_path / "ck" / "model.weights.h5").read_bytes() == (tmp_path / "ck.process1" / "model.weights.h5").read_bytes()
    assert first.info["training"]["best_val_loss"] == pytest.approx(reference.info["training"]["best_val_loss"],
                                                                    rel=LOSS_TOLERANCE)
    for mine, theirs in zip(first.model.get_weights(), reference.model.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=1e-4)  # stored as float16


def test_distribute_on_another_backend_is_one_line_naming_the_setup(tmp_path, capsys):
    """This process runs Keras on TensorFlow: --distribute refuses before reading any music."""
    code = main(["train", "--genre", "chinese-folk", "--distribute", "--out", str(tmp_path / "ck")])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert "needs the JAX backend, not tensorflow" in error and "bash scripts/setup.sh --train" in error
    assert not (tmp_path / "ck").exists()


def test_distribute_without_jax_is_one_line_naming_the_setup(tmp_path):
    """A child where importing JAX fails (as when it is not installed) and no backend is named."""
    env = {k: v for k, v in _child_env(tmp_path).items() if k != "KERAS_BACKEND"}
    script = ("import sys; sys.modules['jax'] = None; from genre_lstm.cli import main; "
              "sys.exit(main(['train', '--genre', 'chinese-folk', '--distribute']))")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "needs JAX, which is not installed: run bash scripts/setup.sh --train" in done.stderr


def test_each_process_feeds_its_share_of_batches_cut_to_the_device_count():
    from genre_lstm.training.distribute import Layout

    layout = Layout(devices=4, processes=2, process_index=1)
    rows = np.arange(10)  # a short last batch of a global batch of 16
    assert layout.local_rows(rows).tolist() == [4, 5, 6, 7]  # cut to 8, second process's half
    assert layout.batch_count(windows=35, batch_size=16) == 2  # 3 left over: fewer than 4 devices
    assert layout.batch_count(windows=36, batch_size=16) == 3
