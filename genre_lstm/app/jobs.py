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
from ..errors import GenreLSTMError, InvalidParameterError
from ..request import Field
from ..store.genres import GENRES
from ..training.sizes import MODEL_SIZES as SIZES
from ..training.sizes import UPLOAD_PARTS

MAX_MINUTES = 20
MINUTES = Field("minutes", float, 3.0, 0.2, MAX_MINUTES, label="Time budget (minutes)")
MAX_STEPS = 300_000


@dataclass
class JobRequest:
    name: str
    size: str = "small"
    minutes: float = 5.0
    base: str | None = None  # a shipped genre id to fine-tune from
    epochs: int = 200

    @classmethod
    def from_form(cls, name, size, minutes, base) -> "JobRequest":
        """The Train tab's raw values (anything an API caller sends) -> a checked request."""
        request = cls(name=name.strip() if isinstance(name, str) else name, size=size,
                      minutes=MINUTES.convert(minutes), base=None if base in (None, "", "none") else base)
        request.check()
        return request

    def check(self) -> None:
        if not isinstance(self.name, str) or not self.name.replace("-", "").replace("_", "").isalnum() or len(
                self.name) > 40:
            raise InvalidParameterError("name your genre with 1-40 letters, digits, '-' or '_'")
        if not isinstance(self.size, str) or self.size not in SIZES:
            raise InvalidParameterError(f"size must be one of {', '.join(SIZES)}, not {self.size!r}")
        MINUTES.check(self.minutes)
        if self.base is not None and (not isinstance(self.base, str) or self.base not in GENRES):
            raise InvalidParameterError(f"unknown genre {self.base!r} to start from; choose one of the list")


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


def _parts_left_out(files: list[Path], pieces: list, base: str | None) -> list[str]:
    """What training leaves out of the music, in words: the parts no place of the model fits (it
    learns up to ``UPLOAD_PARTS`` by role, or the parts of the genre it is fine-tuned from), or,
    for a model of one line, each file's parts merged and drums dropped."""
    from ..music.events import SOLO, Part
    from ..music.midi_io import midi_file_flattening
    from ..store import layout
    from ..store.genres import get_genre
    from ..training.corpus import ensemble_of, pieces_onto_parts

    if base:
        own = layout.read_optional(get_genre(base).local_dir(), layout.OUR_CONFIG).get("model", {}).get("parts")
        ensemble = tuple(Part.from_json(part) for part in own or []) or SOLO
    else:
        ensemble = ensemble_of(pieces, UPLOAD_PARTS)
    if len(ensemble) == 1:
        return [f"read as one part: {note}" for path in files for note in [midi_file_flattening(path)] if note]
    _, dropped = pieces_onto_parts(pieces, ensemble)
    kept = ", ".join(part.name for part in ensemble)
    return [f"{name} left out of {count} piece{'s' if count != 1 else ''} (the model learns {kept})"
            for name, count in sorted(dropped.items())]


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
        from ..training.train import distinct_pieces, split_for_training
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
        skipped = gathered.skipped + read.skipped
        distinct = distinct_pieces(read.pieces)
        read_names = {name for name, _ in read.skipped}
        left_out = _parts_left_out([p for p in gathered.files if p.name not in read_names], distinct, request.base)
        report = {"files_read": len(gathered.files) - len(read.skipped), "pieces": len(distinct),
                  "repeats": len(read.pieces) - len(distinct), "steps": sum(len(p.steps) for p in distinct),
                  "vocabulary": len(vocabulary), "skipped": skipped, "left_out": left_out}
        try:
            if report["steps"] > MAX_STEPS:
                raise InvalidParameterError(f"{report['steps']:,} steps is over the {MAX_STEPS:,}-step limit")
            split_for_training(distinct)  # the check training makes, made before the job is queued
        except GenreLSTMError as error:
            shutil.rmtree(folder, ignore_errors=True)
            reasons = "; skipped " + ", ".join(f"{n} ({r})" for n, r in skipped[:5]) if skipped else ""
            raise InvalidParameterError(f"{error}{reasons}") from error
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

    def remove_owner(self, owner: str) -> int:
        """The user's session ended: stop their job and delete everything it wrote (its folder, the
        uploads in it and their parsed notes in the token cache). How many jobs it had."""
        from ..training.corpus import forget_cached

        with self.lock:
            mine = [j for j in self.jobs.values() if j.owner == owner]
            for job in mine:
                if job.process and job.process.poll() is None:
                    job.process.kill()
                    job.process.wait(10)
                data = job.folder / "data"
                forget_cached(sorted(data.iterdir()) if data.is_dir() else [])
                shutil.rmtree(job.folder, ignore_errors=True)
                del self.jobs[job.id]
        self.schedule()
        return len(mine)


def run_job(folder: Path) -> int:
    """The worker: train on the job's data until the budget, the patience or a STOP file."""
    from ..model.backend import hardware_description, import_keras

    import_keras()
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
