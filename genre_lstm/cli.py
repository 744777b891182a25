"""The ``genre-lstm`` command: a thin layer over the library.

Heavy imports (Keras, music21) happen inside the commands, so ``--help`` is instant. Every error
the user can cause ends as one line on stderr and exit code 2; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import GenreLSTMError, InvalidParameterError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line, like every other error of ours."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


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
    gen.add_argument("--seed-length", type=int, default=100, help="seed steps to use, from the end (default 100)")
    gen.add_argument("--length", type=int, default=500, help="steps to generate (default 500, as in the paper)")
    gen.add_argument("--rhythm", choices=("learned", "random"), default=None,
                     help="learned durations and gaps (default), or the paper's random offsets")
    gen.add_argument("--offset-min", type=float, default=0.1, help="random rhythm: shortest gap, quarter notes")
    gen.add_argument("--offset-max", type=float, default=0.9, help="random rhythm: longest gap, quarter notes")
    gen.add_argument("--temperature", type=float, default=None)
    gen.add_argument("--top-k", type=int, default=None, help="sample among the k likeliest tokens (0 = all)")
    gen.add_argument("--random-seed", type=int, default=0)
    gen.add_argument("--variations", type=int, default=1, help="pieces generated at once (1-16)")
    gen.add_argument("--tempo", type=float, default=None, help="beats per minute (default: the genre's)")
    gen.add_argument("--instrument", default=None, help="General MIDI instrument name or number")
    gen.add_argument("--transpose", type=int, default=0, help="semitones to move the output by")
    gen.add_argument("--include-seed", action="store_true", help="put the seed in front of the continuation")
    gen.add_argument("--natural-ending", action="store_true", help="allow the piece to end before --length")
    gen.add_argument("--no-audio", action="store_true", help="write MIDI only")
    gen.add_argument("--out", type=Path, required=True, help="output folder")

    train = commands.add_parser("train", help="train a checkpoint on a genre's corpus or your own files")
    data = train.add_mutually_exclusive_group(required=True)
    data.add_argument("--genre", help="a shipped genre id: reproduces its checkpoint")
    data.add_argument("--data", type=Path, help="a folder or a zip of MIDI, MusicXML or ABC files")
    train.add_argument("--name", help="name of your genre (with --data)")
    train.add_argument("--preset", choices=("default", "paper"), default="default")
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--max-minutes", type=float, default=None, help="stop after this much training time")
    train.add_argument("--random-seed", type=int, default=0)
    train.add_argument("--base", help="fine-tune: start from this shipped genre (with --data)")
    train.add_argument("--size", choices=("small", "medium"), help="model size for --data (default: medium)")
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

    summary = commands.add_parser("model-summary", help="print a preset's layers and parameter count")
    summary.add_argument("--preset", choices=("default", "paper"), default="default")
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
        if os.environ.get("GENRE_LSTM_DEBUG"):
            raise
        print(f"genre-lstm: internal error: {type(error).__name__}: {error} "
              "(set GENRE_LSTM_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


def cmd_genres(args) -> int:
    from .store.genres import GENRES, HUB_ORG_ENV

    hub = os.environ.get(HUB_ORG_ENV)
    for genre in GENRES.values():
        local = genre.local_dir()
        origin = f"hub {genre.hub_repo()}@{genre.hub_revision}" if hub else (
            f"local {local}" if genre.installed() else f"not installed (hub {genre.hub_repo()})")
        print(f"{genre.id}\t{genre.name}\t{genre.source}\t{origin}")
    return 0


def cmd_generate(args) -> int:
    from .model.generate import GenerationSettings
    from .music.instruments import program_of
    from .music.midi_io import music_file_to_steps
    from .music.render import check_synth_available, find_soundfont

    spec = args.checkpoint or args.genre or "irish-fiddle"
    program = program_of(args.instrument) if args.instrument is not None else None
    if args.tempo is not None and not 20 <= args.tempo <= 400:
        raise InvalidParameterError(f"tempo must be 20 to 400 BPM, not {args.tempo}")
    if not -24 <= args.transpose <= 24:
        raise InvalidParameterError(f"transpose must be -24 to 24 semitones, not {args.transpose}")
    if not args.no_audio:
        check_synth_available(), find_soundfont()  # fail before the slow part
    seed = music_file_to_steps(args.seed_midi) if args.seed_midi else None
    from .store.hub import get_checkpoint, resolve_checkpoint

    folder = resolve_checkpoint(spec)
    _load_backend()
    from .pipeline import make_music

    checkpoint = get_checkpoint(str(folder))
    defaults = checkpoint.defaults
    settings = GenerationSettings(
        length=args.length, rhythm=args.rhythm or defaults.rhythm, offset_min=args.offset_min,
        offset_max=args.offset_max,
        temperature=defaults.temperature if args.temperature is None else args.temperature,
        top_k=defaults.top_k if args.top_k is None else args.top_k, random_seed=args.random_seed,
        variations=args.variations, seed_length=args.seed_length, natural_ending=args.natural_ending,
    ).checked(checkpoint.config, len(checkpoint.vocab))
    if seed is None:
        index = args.seed_piece if args.seed_piece is not None else args.random_seed
        seed = checkpoint.seed_steps(index)
    name = Path(spec).name if Path(spec).is_dir() else spec.replace("/", "_")
    outputs = make_music(checkpoint, seed, settings, args.out, name=name, tempo_bpm=args.tempo,
                         program=program, include_seed=args.include_seed, audio=not args.no_audio,
                         transpose=args.transpose)
    for output in outputs:
        print(output.midi)
        if output.wav:
            print(output.wav)
    return 0


def cmd_train(args) -> int:
    from .store.checkpoint import GenerationDefaults
    from .training.corpus import read_collection, read_pieces
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

        genre = get_genre(args.genre)
        for key, value in genre.train.items():
            if key != "epochs" or args.epochs is None:
                setattr(settings, key, value)
        settings.check()
        out = args.out or genre.local_dir()
        print(f"reading {genre.source} ...", file=sys.stderr)
        report = read_collection(genre.collection, workers=args.workers)
        defaults = GenerationDefaults(name=genre.id, description=genre.name, tempo_bpm=genre.tempo_bpm,
                                      program=genre.program, temperature=genre.temperature)
        info = {"genre": genre.id, "source": genre.source, "collection": genre.collection}
    else:
        import tempfile

        from .training.uploads import gather_music_files

        if not (args.data.is_dir() or args.data.is_file()):
            raise InvalidParameterError(f"{args.data}: no such folder or zip")
        out = args.out or Path("checkpoints") / args.name
        uploads = sorted(p for p in args.data.rglob("*") if p.is_file()) if args.data.is_dir() else [args.data]
        gathered = gather_music_files(uploads, tempfile.mkdtemp(prefix="genre-lstm-data-"))
        report = read_pieces(gathered.files, workers=args.workers,
                             root=gathered.files[0].parent if gathered.files else None)
        report.skipped[:0] = gathered.skipped
        defaults = GenerationDefaults(name=args.name, description=args.name)
        info = {"genre": args.name, "source": f"{len(gathered.files)} files from {args.data.name}"}
        if args.base:
            from .store.genres import get_genre

            settings.base = str(get_genre(args.base).local_dir())
            info["fine_tuned_from"] = args.base
        if args.size:
            from .app.jobs import SIZES

            settings.model = SIZES[args.size]
    print(f"read {len(report.pieces)} pieces, {report.steps} steps; skipped {len(report.skipped)} files",
          file=sys.stderr)
    for name, reason in report.skipped:
        print(f"  skipped {name}: {reason}", file=sys.stderr)
    _load_backend()
    from .training.train import train_checkpoint

    from .model.backend import hardware_description
    from .store.card import write_model_card

    info["pieces"] = len(report.pieces)
    info["hardware"] = hardware_description()
    trainer = train_checkpoint
    if args.distribute:
        from .training.distribute import train_data_parallel as trainer
    result = trainer(report.pieces, out, settings=settings, defaults=defaults, info=info)
    from .store.genres import GENRES, representation_note

    write_model_card(result.folder, title=f"genre-lstm: {defaults.description}",
                     summary=f"An LSTM that continues music in the style of: {info['source']}.",
                     parameters=result.parameters, hardware=info["hardware"],
                     representation=representation_note(GENRES[args.genre]) if args.genre else "")
    print(result.folder)
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
    from .evaluation.evaluate import evaluate_genre, evaluation_markdown, genre_accuracy

    results = []
    for genre in genres:
        baseline = args.baselines / genre / "paper"
        if args.train_baselines:
            _train_paper_baseline(genre, baseline)
        paper = None
        if baseline.is_dir():
            from .store.checkpoint import load_checkpoint

            paper = load_checkpoint(baseline)
        print(f"evaluating {genre} ...", file=sys.stderr)
        results.append(evaluate_genre(genre, generated_count=args.pieces, paper_baseline=paper))
        print(json.dumps({k: v for k, v in results[-1].items() if k != "_sets"}, default=float), file=sys.stderr)
    accuracy = genre_accuracy(results) if len(results) > 1 else None
    command = "genre-lstm evaluate" + "".join(f" --genre {g}" for g in (args.genre or []))
    args.out.write_text(evaluation_markdown(results, command, accuracy), encoding="utf-8")
    for result in results:
        _card_with_figures(result, (accuracy or {}).get(result["genre"]))
    print(args.out)
    return 0


def _card_with_figures(result: dict, genre_share: dict | None) -> None:
    """Rewrite a shipped genre's model card with its held-out figures."""
    from .store.card import write_model_card
    from .store.genres import get_genre, representation_note
    from .store.hub import get_checkpoint

    genre = get_genre(result["genre"])
    checkpoint = get_checkpoint(genre.id)
    model, ngrams, two = result["model"], result["ngrams"], result["two_sample"]
    best_order = min(ngrams, key=lambda n: ngrams[n]["token"])
    figures = {
        "held-out test steps": model["steps"],
        "cross-entropy, pitch/chord (nats/step)": f"{model['token']:.3f}",
        "cross-entropy, duration / shift (nats/step)": f"{model['duration']:.3f} / {model['shift']:.3f}",
        "top-1 accuracy, pitch/chord": f"{model['accuracy']:.3f}",
        f"best n-gram (Kneser-Ney order {best_order}), pitch/chord": f"{ngrams[best_order]['token']:.3f}",
        "two-sample accuracy, generated vs held-out (0.5 = indistinguishable)":
            f"{two['lstm'][0]:.3f} +/- {two['lstm'][1]:.3f} (order-5 Markov {two['markov5'][0]:.3f})",
        "8-gram copy rate, generated / real held-out": "{:.3f} / {:.3f}".format(
            result["copy"]["generated"][0], result["copy"]["real_held_out"][0]),
    }
    if genre_share is not None:
        figures["genre accuracy of generated pieces (real held-out)"] = (
            f"{genre_share['generated']:.3f} ({genre_share['held_out']:.3f})")
    write_model_card(genre.local_dir(), title=f"genre-lstm: {genre.name}",
                     summary=f"An LSTM that continues music in the style of: {genre.source}. "
                             "See EVALUATION.md in the genre-lstm repository for how each figure is measured.",
                     parameters=checkpoint.parameter_count,
                     hardware=checkpoint.info.get("hardware", "unknown hardware"), figures=figures,
                     representation=representation_note(genre))


def _train_paper_baseline(genre_id: str, folder: Path) -> None:
    """The paper preset on the genre's pieces, for as long as the shipped checkpoint trained."""
    from .store.checkpoint import load_checkpoint
    from .training.corpus import read_collection
    from .store.genres import get_genre
    from .training.train import TrainSettings, train_checkpoint

    genre = get_genre(genre_id)
    shipped = load_checkpoint(genre.local_dir())
    seconds = shipped.info.get("training", {}).get("seconds", 600)
    settings = TrainSettings(preset="paper", epochs=1000, patience=1000, max_minutes=seconds / 60,
                             max_vocab=len(shipped.vocab), verbose=2, **{k: v for k, v in genre.train.items()
                                                                         if k == "transpose"})
    print(f"training the paper baseline for {genre_id}: {seconds / 60:.1f} min", file=sys.stderr)
    train_checkpoint(read_collection(genre.collection).pieces, folder, settings=settings,
                     info={"genre": genre_id, "baseline": "paper"})


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
