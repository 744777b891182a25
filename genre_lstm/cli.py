"""The ``genre-lstm`` command: a thin layer over the library.

Heavy imports (Keras, music21) happen inside the commands, so ``--help`` is instant. Every error
the user can cause ends as one line on stderr and exit code 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .environment import DEBUG
from .errors import GenreLSTMError, InvalidParameterError
from .model.presets import PRESETS
from .request import FIELDS, GenerationRequest, number_text
from .training.sizes import MODEL_SIZES, UPLOAD_PARTS

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line, like every other error of ours."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """One option per request field, with the field's own help and limits; values stay strings here
    and are converted and checked by the request, so the CLI and the app refuse alike."""
    for field in FIELDS:
        if field.kind is bool:
            parser.add_argument(field.flag, action="store_true", default=None, help=field.help)
            continue
        limits = f", {number_text(field.low)} to {number_text(field.high)}" if field.low is not None else ""
        parser.add_argument(field.flag, default=None, metavar=field.name.upper(),
                            help=f"{field.help} (default: {field.default_text}{limits})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="genre-lstm", description="Genre-specific music generation with one LSTM per genre.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("genres", help="list the genres, their sources and where each checkpoint comes from")

    gen = commands.add_parser("generate", help="continue a seed in a genre; writes MIDI and WAV files")
    where = gen.add_mutually_exclusive_group()
    where.add_argument("--genre", help="a genre id (see 'genre-lstm genres')")
    where.add_argument("--checkpoint", help="a checkpoint folder or a hub repo id OWNER/NAME")
    seed = gen.add_mutually_exclusive_group()
    seed.add_argument("--seed-midi", type=Path, help="a MIDI, MusicXML or ABC file to continue")
    seed.add_argument("--seed-piece", type=int, help="index of one of the checkpoint's held-out seed windows")
    add_request_options(gen)
    gen.add_argument("--no-audio", action="store_true", help="write MIDI only")
    gen.add_argument("--out", type=Path, required=True, help="output folder")

    train = commands.add_parser("train", help="train a checkpoint on a genre's corpus or your own files")
    data = train.add_mutually_exclusive_group(required=True)
    data.add_argument("--genre", help="a shipped genre id: reproduces its checkpoint")
    data.add_argument("--data", type=Path, help="a folder or a zip of MIDI, MusicXML or ABC files")
    train.add_argument("--name", help="name of your genre (with --data)")
    train.add_argument("--preset", choices=tuple(PRESETS), default="default")
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--max-minutes", type=float, default=None, help="stop after this much training time")
    train.add_argument("--random-seed", type=int, default=0)
    train.add_argument("--base", help="fine-tune: start from this shipped genre (with --data)")
    train.add_argument("--size", choices=tuple(MODEL_SIZES), help="model size for --data (default: medium)")
    train.add_argument("--parts", type=int, default=None,
                       help=f"with --data: the most parts (tracks, drums included) to learn, by General MIDI role; "
                            f"1 merges every pitched track into one line (default: {UPLOAD_PARTS})")
    train.add_argument("--out", type=Path, help="checkpoint folder (default: checkpoints/<genre>)")
    train.add_argument("--batch-size", type=int, help="global batch, split across devices (default 32)")
    train.add_argument("--workers", type=int, help="processes parsing the music (default: every core)")
    train.add_argument("--distribute", action="store_true",
                       help="data-parallel over every device, several machines through JAX_COORDINATOR_ADDRESS "
                            "(JAX backend: bash scripts/setup.sh --train)")

    render = commands.add_parser("render", help="render a MIDI file to WAV with FluidSynth")
    render.add_argument("midi", type=Path)
    render.add_argument("wav", type=Path)

    push = commands.add_parser("push", help="upload a checkpoint folder to the Hugging Face hub")
    source = push.add_mutually_exclusive_group(required=True)
    source.add_argument("--genre", help="a shipped genre id (uploads checkpoints/<id>)")
    source.add_argument("--checkpoint", type=Path, help="a checkpoint folder")
    push.add_argument("--repo", required=True, help="hub repo id OWNER/NAME (token from HF_TOKEN or huggingface-cli login)")
    push.add_argument("--private", action="store_true")

    evaluate = commands.add_parser("evaluate", help="measure held-out quality and write EVALUATION.md")
    evaluate.add_argument("--genre", action="append", help="a genre id (repeatable; default: all installed)")
    evaluate.add_argument("--out", type=Path, default=Path("EVALUATION.md"))
    evaluate.add_argument("--pieces", type=int, default=100, help="generated pieces per genre")
    evaluate.add_argument("--train-baselines", action="store_true",
                          help="(re)train the paper-preset baselines into baselines/ for the genres' training time")
    evaluate.add_argument("--baselines", type=Path, default=Path("baselines"), help="baseline folder (git-ignored)")
    evaluate.add_argument("--long-form", action="store_true",
                          help="only the long-form section (400-step pieces), written into --out in place; "
                               "<baselines>/<genre>/before, a checkpoint saved before metric positions, adds its rows")

    summary = commands.add_parser("model-summary", help="print a preset's layers and parameter count")
    summary.add_argument("--preset", choices=tuple(PRESETS), default="default")
    summary.add_argument("--vocab-size", type=int, default=500, help="vocabulary size to size the model for")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args) or 0
    except GenreLSTMError as error:
        print(f"genre-lstm: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("genre-lstm: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug of ours: still one line, with a way to see more
        if DEBUG.get():
            raise
        print(f"genre-lstm: internal error: {type(error).__name__}: {error} "
              "(set GENRE_LSTM_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


def cmd_genres(args) -> int:
    from .environment import HUB_ORG
    from .store.genres import GENRES

    hub = HUB_ORG.get()
    for genre in GENRES.values():
        local = genre.local_dir()
        origin = f"hub {genre.hub_repo()}@{genre.hub_revision}" if hub else (
            f"local {local}" if genre.installed() else f"not installed (hub {genre.hub_repo()})")
        print(f"{genre.id}\t{genre.name}\t{genre.source}\t{origin}")
    return 0


def request_from_args(args) -> GenerationRequest:
    """The generate command's options -> a checked request (the same conversion the app uses)."""
    return GenerationRequest.from_values(**{f.name: getattr(args, f.name) for f in FIELDS})


def cmd_generate(args) -> int:
    from .music.midi_io import seed_file_to_music
    from .music.render import check_synth_available, find_soundfont
    from .store.hub import get_checkpoint, resolve_checkpoint

    request = request_from_args(args)
    spec = args.checkpoint or args.genre or "irish-fiddle"
    folder = resolve_checkpoint(spec)
    if not args.no_audio:
        check_synth_available(), find_soundfont()  # fail before the slow part
        from .pipeline import check_music_length

        check_music_length(folder, request)
    music = seed_file_to_music(args.seed_midi) if args.seed_midi else None
    _load_backend()
    from .pipeline import make_music

    checkpoint = get_checkpoint(str(folder))
    seed = None
    if music is not None:
        seed, dropped = checkpoint.seed_in_parts(music)
        if dropped:
            print(dropped, file=sys.stderr)
    if seed is None:
        seed = checkpoint.seed_steps(args.seed_piece if args.seed_piece is not None else request.random_seed)
    name = Path(spec).name if Path(spec).is_dir() else spec.replace("/", "_")
    for output in make_music(checkpoint, seed, request, args.out, name=name, audio=not args.no_audio):
        print(output.midi)
        if output.wav:
            print(output.wav)
    return 0


def cmd_train(args) -> int:
    from .training.recipes import files_recipe, genre_recipe, train_recipe
    from .training.train import TrainSettings

    if args.data is not None and not args.name:
        raise InvalidParameterError("--data needs --name (the name of your genre)")
    if args.distribute:
        from .training.distribute import prepare_distribution

        prepare_distribution()  # before Keras is imported: it picks the backend
    settings = TrainSettings(preset=args.preset, random_seed=args.random_seed, max_minutes=args.max_minutes,
                             batch_size=TrainSettings.batch_size if args.batch_size is None else args.batch_size,
                             verbose=1 if sys.stderr.isatty() else 2)
    if args.epochs is not None:
        settings.epochs = args.epochs
    settings.check()
    if args.genre:
        from .store.genres import get_genre

        print(f"reading {get_genre(args.genre).source} ...", file=sys.stderr)
        recipe = genre_recipe(args.genre, settings, out=args.out, workers=args.workers,
                              keep_epochs=args.epochs is not None)
    else:
        recipe = files_recipe(args.data, args.name, settings, out=args.out, base=args.base, size=args.size,
                              workers=args.workers, parts=args.parts)
    report = recipe.report
    print(f"read {len(report.pieces)} pieces, {report.steps} steps; skipped {len(report.skipped)} files",
          file=sys.stderr)
    for name, reason in report.skipped:
        print(f"  skipped {name}: {reason}", file=sys.stderr)
    _load_backend()
    trainer = None
    if args.distribute:
        from .training.distribute import train_data_parallel as trainer
    print(train_recipe(recipe, settings, trainer=trainer).folder)
    return 0


def cmd_render(args) -> int:
    from .music.render import midi_to_wav

    print(midi_to_wav(args.midi, args.wav))
    return 0


def cmd_push(args) -> int:
    from .store.genres import get_genre
    from .store.hub import is_repo_id

    if not is_repo_id(args.repo):
        raise InvalidParameterError(f"{args.repo!r} is not a hub repo id of the form OWNER/NAME")
    folder = get_genre(args.genre).local_dir() if args.genre else args.checkpoint
    _load_backend()
    from .store.hub import push_checkpoint

    print(push_checkpoint(folder, args.repo, private=args.private))
    return 0


def cmd_evaluate(args) -> int:
    import json

    from .store.genres import GENRES, get_genre

    genres = [get_genre(g).id for g in args.genre] if args.genre else [
        g.id for g in GENRES.values() if g.installed()]
    if not genres:
        raise InvalidParameterError("no genre checkpoints installed to evaluate")
    _load_backend()
    from .evaluation.baselines import train_paper_baseline
    from .evaluation.evaluate import evaluate_genre
    from .evaluation.metrics import genre_accuracy
    from .evaluation.report import (
        LONG_FORM_HEADING,
        evaluation_markdown,
        long_form_markdown,
        record_figures,
        with_section,
    )

    if args.long_form:
        return _evaluate_long_form(args, genres)
    results = []
    for genre in genres:
        baseline = args.baselines / genre / "paper"
        if args.train_baselines:
            train_paper_baseline(genre, baseline)
        paper = None
        if baseline.is_dir():
            from .store.checkpoint import load_checkpoint

            paper = load_checkpoint(baseline)
        print(f"evaluating {genre} ...", file=sys.stderr)
        results.append(evaluate_genre(genre, generated_count=args.pieces, paper_baseline=paper))
        print(json.dumps({k: v for k, v in results[-1].items() if k != "_sets"}, default=float), file=sys.stderr)
    accuracy = genre_accuracy(results) if len(results) > 1 else None
    command = "genre-lstm evaluate" + "".join(f" --genre {g}" for g in (args.genre or []))
    text = evaluation_markdown(results, command, accuracy)
    long_form = [_long_form_of(args, genre) for genre in genres]
    text = with_section(text, LONG_FORM_HEADING, long_form_markdown(long_form, command))
    args.out.write_text(text, encoding="utf-8")
    for result in results:
        record_figures(result, (accuracy or {}).get(result["genre"]), command)
    print(args.out)
    return 0


def _long_form_of(args, genre: str) -> dict:
    """One genre's long-form figures, with the rows of the checkpoint saved before when it is kept."""
    import json

    from .evaluation.longform import evaluate_long_form
    from .store.checkpoint import load_checkpoint

    before = args.baselines / genre / "before"
    print(f"long-form {genre} ...", file=sys.stderr)
    result = evaluate_long_form(genre, previous=load_checkpoint(before) if before.is_dir() else None)
    print(json.dumps(result, default=float), file=sys.stderr)
    return result


def _evaluate_long_form(args, genres: list[str]) -> int:
    """Write (or replace) only the long-form section of ``args.out``."""
    from .evaluation.report import LONG_FORM_HEADING, long_form_markdown, with_section

    results = [_long_form_of(args, genre) for genre in genres]
    command = "genre-lstm evaluate --long-form" + "".join(f" --genre {g}" for g in (args.genre or []))
    document = args.out.read_text(encoding="utf-8") if args.out.is_file() else "# Evaluation\n"
    args.out.write_text(with_section(document, LONG_FORM_HEADING, long_form_markdown(results, command)),
                        encoding="utf-8")
    print(args.out)
    return 0


def cmd_model_summary(args) -> int:
    if args.vocab_size < 3:
        raise InvalidParameterError(f"--vocab-size must be at least 3, not {args.vocab_size}")
    _load_backend()
    from .model.network import ModelConfig, build_model

    model = build_model(ModelConfig.for_preset(args.preset, args.vocab_size))
    model.summary(print_fn=lambda line, **_: print(line))
    print(f"parameters: {model.count_params():,}")
    return 0


def _load_backend() -> None:
    from .model.backend import import_keras

    import_keras()


COMMANDS = {
    "genres": cmd_genres,
    "generate": cmd_generate,
    "train": cmd_train,
    "render": cmd_render,
    "evaluate": cmd_evaluate,
    "push": cmd_push,
    "model-summary": cmd_model_summary,
}

if __name__ == "__main__":
    sys.exit(main())
