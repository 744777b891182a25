"""Train-your-own on this CPU: 30 real MIDI files of a genre we do not ship (Ryan's Mammoth
Collection, American fiddle tunes), as the app's Train tab trains them; and whether fine-tuning
from a shipped genre helps on a small set.

    .venv/bin/python benchmarks/bench_train_own.py [--files 30] [--minutes 5] [--small 8]

Reports the time to reach a held-out loss within 5% of the best, and, for --small files, the
held-out cross-entropy (exact pitch sets, the same open basis as EVALUATION.md, so different
vocabularies compare) from scratch vs fine-tuned from irish-fiddle, same time budget.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_lstm.model.backend import hardware_description, import_keras  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--small", type=int, default=8)
    parser.add_argument("--small-minutes", type=float, default=1.5)
    args = parser.parse_args()
    import_keras()
    from genre_lstm.app.jobs import SIZES
    from genre_lstm.evaluation.metrics import PitchSetBackoff, score_model
    from genre_lstm.music.midi_io import steps_to_midi_file
    from genre_lstm.store.checkpoint import load_checkpoint
    from genre_lstm.store.genres import get_genre
    from genre_lstm.training.corpus import read_collection, read_pieces, split_pieces
    from genre_lstm.training.train import TrainSettings, train_checkpoint

    folder = Path(tempfile.mkdtemp(prefix="bench-own-"))
    tunes = [p for p in read_collection("ryans-mammoth").pieces if len(p.steps) >= 32]
    files = [steps_to_midi_file(p.steps, folder / "data" / f"tune{i:02d}.mid") for i, p in enumerate(tunes[:args.files])]
    pieces = read_pieces(files, root=folder / "data").pieces
    settings = TrainSettings(epochs=500, patience=8, max_minutes=args.minutes, verbose=0, model=SIZES["small"])
    result = train_checkpoint(pieces, folder / "own", settings=settings)
    best = result.best_val_loss
    reached = next(h for h in result.history if h["val_loss"] <= 1.05 * best)
    seconds_per_epoch = result.seconds / max(1, result.epochs_run)
    print(f"machine: {hardware_description()}")
    print(f"{len(files)} Ryan's Mammoth tunes as MIDI, {sum(len(p.steps) for p in pieces)} steps; small model, "
          f"{result.epochs_run} epochs in {result.seconds:.0f} s (best held-out loss {best:.3f} at epoch {result.best_epoch})")
    print(f"within 5% of the best held-out loss at epoch {reached['epoch']}: about {reached['epoch'] * seconds_per_epoch:.0f} s "
          f"of training")

    small = pieces[: args.small]
    split = split_pieces(small)
    held_out = split.valid + split.test
    backoff = PitchSetBackoff(split.train)
    scores = {}
    for label, base in (("from scratch", None), ("fine-tuned from irish-fiddle", str(get_genre("irish-fiddle").local_dir()))):
        out = folder / label.replace(" ", "-")
        train_checkpoint(small, out, settings=TrainSettings(epochs=500, patience=8, max_minutes=args.small_minutes,
                                                             verbose=0, model=SIZES["small"], base=base))
        scores[label] = score_model(load_checkpoint(out), held_out, backoff)
    print(f"fine-tuning on {len(small)} files ({args.small_minutes} min each), held-out pitch/chord cross-entropy "
          "on the open basis (nats/step): " + "; ".join(f"{k} {v.token:.3f} (top-1 {v.accuracy:.3f})" for k, v in scores.items()))


if __name__ == "__main__":
    main()
