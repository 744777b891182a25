"""Training jobs for the app's Train tab: a queue, one job at a time, each in its own low-priority
process on one thread, so generation stays fast for everyone else.

A job lives in its own temporary folder: the uploaded music, request.json, progress.jsonl (one
line per epoch, written by the worker), a STOP file the Stop button creates, and the checkpoint.
The worker is ``python -m genre_lstm.app.jobs JOB_FOLDER``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..environment import JOBS
from ..errors import InvalidParameterError
from ..training.sizes import MODEL_SIZES as SIZES
from ..training.sizes import UPLOAD_PARTS

MAX_MINUTES = 20
MAX_STEPS = 300_000


@dataclass
class JobRequest:
    name: str
    size: str = "small"
    minutes: float = 5.0
    base: str | None = None  # a shipped genre id to fine-tune from
    epochs: int = 200

    def check(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum() or len(self.name) > 40:
            raise InvalidParameterError("name your genre with 1-40 letters, digits, '-' or '_'")
        if self.size not in SIZES:
            raise InvalidParameterError(f"size must be one of {', '.join(SIZES)}")
        if not 0.2 <= float(self.minutes) <= MAX_MINUTES:
            raise InvalidParameterError(f"the time budget must be 0.2 to {MAX_MINUTES} minutes")


@dataclass
class Job:
    id: str
    owner: str
    folder: Path
    request: JobRequest
    report: dict
    status: str = "queued"  # queued, running, finished, stopped, failed
    message: str = ""
    started: float | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def checkpoint(self) -> Path:
        return self.folder / "checkpoint"

    def epochs(self) -> list[dict]:
        path = self.folder / "progress.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        (self.folder / "STOP").touch()


class JobQueue:
    """One running job at a time (this is a 2-core machine), one job per user, FIFO for the rest."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root or JOBS.get() or tempfile.mkdtemp(prefix="genre-lstm-jobs-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def submit(self, owner: str, uploads: list[str], request: JobRequest) -> Job:
        """Check the request and the data (report first), then queue the job."""
        from ..training.corpus import read_pieces
        from ..training.uploads import gather_music_files

        request.check()
        with self.lock:
            if any(j.owner == owner and j.status in ("queued", "running") for j in self.jobs.values()):
                raise InvalidParameterError("you already have a training job; stop it or wait for it to finish")
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        try:
            gathered = gather_music_files(uploads, folder / "data")
            read = read_pieces(gathered.files, root=folder / "data")
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        vocabulary = {step.pitches for piece in read.pieces for step in piece.steps}
        report = {"files_read": len(gathered.files) - len(read.skipped), "pieces": len(read.pieces),
                  "steps": read.steps, "vocabulary": len(vocabulary),
                  "skipped": gathered.skipped + read.skipped}
        if read.steps > MAX_STEPS:
            shutil.rmtree(folder, ignore_errors=True)
            raise InvalidParameterError(f"{read.steps:,} steps is over the {MAX_STEPS:,}-step limit")
        if len(read.pieces) < 3:
            shutil.rmtree(folder, ignore_errors=True)
            raise InvalidParameterError(f"only {len(read.pieces)} readable pieces; upload at least 3 MIDI files "
                                        f"(skipped: {', '.join(f'{n} ({r})' for n, r in report['skipped'][:5])})")
        (folder / "request.json").write_text(json.dumps(asdict(request)))
        job = Job(job_id, owner, folder, request, report)
        with self.lock:
            self.jobs[job_id] = job
        self.schedule()
        return job

    def position(self, job: Job) -> int:
        """0 when running, else the number of jobs ahead of it plus one."""
        if job.status != "queued":
            return 0
        queued = [j for j in self.jobs.values() if j.status == "queued"]
        return queued.index(job) + 1

    def schedule(self) -> None:
        """Update finished jobs and start the next queued one if none runs."""
        with self.lock:
            for job in self.jobs.values():
                if job.status == "running" and job.process and job.process.poll() is not None:
                    self._finish(job)
            if any(j.status == "running" for j in self.jobs.values()):
                return
            queued = [j for j in self.jobs.values() if j.status == "queued"]
            if queued:
                self._start(queued[0])

    def _start(self, job: Job) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
               "TF_CPP_MIN_LOG_LEVEL": "3"}
        log = open(job.folder / "worker.log", "w")
        job.process = subprocess.Popen([sys.executable, "-m", "genre_lstm.app.jobs", str(job.folder)], env=env,
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       preexec_fn=lambda: os.nice(19))
        job.status, job.started = "running", time.time()

    def _finish(self, job: Job) -> None:
        outcome = job.folder / "outcome.json"
        result = json.loads(outcome.read_text()) if outcome.is_file() else {"status": "failed",
                                                                            "message": "the training process ended unexpectedly"}
        job.status, job.message = result["status"], result.get("message", "")

    def remove_owner(self, owner: str) -> None:
        """The user's session ended: stop their job and delete everything it wrote."""
        with self.lock:
            mine = [j for j in self.jobs.values() if j.owner == owner]
            for job in mine:
                if job.process and job.process.poll() is None:
                    job.process.kill()
                    job.process.wait(10)
                shutil.rmtree(job.folder, ignore_errors=True)
                del self.jobs[job.id]
        self.schedule()


def run_job(folder: Path) -> int:
    """The worker: train on the job's data until the budget, the patience or a STOP file."""
    from ..model.backend import hardware_description, import_keras

    import_keras()
    from ..errors import GenreLSTMError
    from ..store.card import write_model_card
    from ..store.checkpoint import GenerationDefaults
    from ..store.genres import get_genre
    from ..training.corpus import read_pieces
    from ..training.train import TrainSettings, train_checkpoint

    request = JobRequest(**json.loads((folder / "request.json").read_text()))
    stop = threading.Event()

    def watch_stop():
        while not stop.wait(0.5):
            if (folder / "STOP").exists():
                stop.set()

    threading.Thread(target=watch_stop, daemon=True).start()

    def on_epoch(report):
        with open(folder / "progress.jsonl", "a") as out:
            out.write(json.dumps(asdict(report)) + "\n")

    base = get_genre(request.base).local_dir() if request.base else None
    settings = TrainSettings(epochs=request.epochs, max_minutes=float(request.minutes), patience=5, verbose=0,
                             model=SIZES[request.size], base=str(base) if base else None, max_parts=UPLOAD_PARTS)
    files = sorted(p for p in (folder / "data").iterdir() if p.is_file())
    try:
        pieces = read_pieces(files, root=folder / "data").pieces
        hardware = hardware_description()
        info = {"genre": request.name, "source": f"{len(files)} uploaded files", "pieces": len(pieces),
                "hardware": hardware, "fine_tuned_from": request.base}
        result = train_checkpoint(pieces, folder / "checkpoint", settings=settings, info=info, on_epoch=on_epoch,
                                  stop=stop, defaults=GenerationDefaults(name=request.name, description=request.name))
        write_model_card(folder / "checkpoint", title=f"genre-lstm: {request.name}",
                         summary=f"An LSTM trained in the genre-lstm app on {len(files)} uploaded files"
                                 + (f", fine-tuned from {request.base}." if request.base else "."),
                         parameters=result.parameters, hardware=hardware)
        status = "stopped" if stop.is_set() else "finished"
        outcome = {"status": status, "message": f"best held-out loss {result.best_val_loss:.3f} at epoch {result.best_epoch}"}
    except GenreLSTMError as error:
        outcome = {"status": "failed", "message": str(error)}
    (folder / "outcome.json").write_text(json.dumps(outcome))
    return 0 if outcome["status"] != "failed" else 2


if __name__ == "__main__":
    sys.exit(run_job(Path(sys.argv[1])))
