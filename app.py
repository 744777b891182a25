"""genre-lstm's Gradio app: pick a genre, give a seed, click Generate, listen and download.

This file lays out the UI and forwards values to the library (genre_lstm.app.service and
genre_lstm.app.compare); no music logic lives here.
Run: python app.py  (serves on 127.0.0.1:7860; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from genre_lstm.app import compare, jobs, listen, service
from genre_lstm.environment import TRAIN_TAB
from genre_lstm.errors import GenreLSTMError
from genre_lstm.pipeline import approximate_seconds
from genre_lstm.request import FIELD, FIELDS

log = logging.getLogger("genre-lstm.app")
MAX_UPLOAD = "8mb"
MINE = "mine:"  # genre dropdown values of a session's own trained models
DEFAULT_GENRE = "irish-fiddle"  # what a bare API call generates
UPLOAD_NOTE = (f"Uploads (up to {MAX_UPLOAD}: MIDI, MusicXML or ABC) are used for your request only and deleted "
               "with its results; nothing is kept or shared.")
SOURCE_INPUTS = ("genre", "seed_file", "seed_choice", "new_seed")  # which model and seed; the rest are FIELDS
# sliders set to the chosen genre's defaults
GENRE_SETTINGS = ("temperature", "key_bias", "register_margin", "grid_bias")


def readable_errors(handler):
    """Every failure a handler meets reaches the page as a readable message and the server keeps
    serving: ours as they are, anything else as one line naming it (the traceback goes to the log)."""

    @functools.wraps(handler)
    def call(*args, **kwargs):
        with readable_failures():
            return handler(*args, **kwargs)

    return call


@contextlib.contextmanager
def readable_failures():
    """What readable_errors does, for a generator handler's body (a closed generator stays closed)."""
    try:
        yield
    except GenreLSTMError as error:
        raise gr.Error(str(error)) from error
    except (gr.Error, GeneratorExit):
        raise
    except Exception as error:
        raise _internal_error(error) from error


def _internal_error(error: Exception) -> gr.Error:
    log.exception("unexpected error in a request")
    return gr.Error(f"internal error ({type(error).__name__}: {str(error)[:200]}); please try again or report it")


def with_form_signature(handler):
    """A Gradio handler whose parameters are the Generate form's inputs, named and defaulted by the
    request's one definition (so the API's parameter names and defaults cannot drift from it)."""
    defaults = {"genre": DEFAULT_GENRE, "seed_file": None, "seed_choice": service.RANDOM_SEED_CHOICE,
                "new_seed": False, **{f.name: f.default for f in FIELDS}}
    parameters = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=value)
                  for name, value in defaults.items()]
    parameters += [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                     annotation=gr.Request),
                   inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress())]
    signature = inspect.Signature(parameters)

    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        yield from handler(values.pop("request"), values.pop("progress"),
                           {k: values.pop(k) for k in SOURCE_INPUTS}, values)

    call.__signature__ = signature
    call.__annotations__ = {"request": gr.Request}
    call.__name__ = call.__qualname__ = handler.__name__
    call.__doc__ = handler.__doc__
    return call


@with_form_signature
def generate(session: gr.Request | None, progress, source: dict, knobs: dict):
    """The Generate button: a generator, so Cancel stops it between steps."""
    from genre_lstm.model.backend import import_keras
    from genre_lstm.model.generate import Progress

    yield _unchanged()  # at once: Gradio can close a generator only after its first yield
    work = Path(tempfile.mkdtemp(prefix="genre-lstm-request-"))
    running = None
    streams = ()
    try:
        with readable_failures():
            model = _model_of(source["genre"] or DEFAULT_GENRE, session)
            request = service.request_from_form(**knobs)
            import_keras()
            running = RUNNING.add(_session_of(session), service.run(
                model, request, work, seed_file=source["seed_file"], seed_choice=source["seed_choice"],
                new_seed=bool(source["new_seed"]), wav=False,
                open_stream=functools.partial(listen.STORE.open, _session_of(session))), work)
            for item in running.work:
                if isinstance(item, service.Result):
                    yield _show(item, streams)
                    continue
                if isinstance(item, service.Listening):
                    streams = item.streams
                    yield _listen(streams)
                    continue
                if isinstance(item, Progress):
                    progress(0.8 * item.done / item.total, desc=f"sampling step {item.done} of {item.total}")
                else:
                    progress(0.8 + 0.2 * item.done / item.total, desc=f"rendering {item.done} of {item.total}")
                yield _unchanged()  # hands control back to Gradio, so Cancel ends the work here
    finally:  # finished or failed: delete its files (Gradio serves its own copies); Cancel does it from outside
        if running is not None:
            RUNNING.finish(running)
        shutil.rmtree(work, ignore_errors=True)


@readable_errors
def cancel_requests(request: gr.Request):
    """Cancel: stop this session's requests now and delete their files (Gradio stops streaming them)."""
    RUNNING.stop_session(_session_of(request))


def _session_of(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "no-session"


def _model_of(genre, session: gr.Request | None) -> str:
    """A genre id of the list, or the checkpoint folder of a 'mine:<job>' model of this session;
    anything else is refused with the same message (no path or other session's model is probed)."""
    if isinstance(genre, str) and genre.startswith(MINE):
        job = QUEUE.jobs.get(genre[len(MINE):])
        if job is not None and session is not None and job.owner == session.session_hash and job.checkpoint.is_dir():
            return str(job.checkpoint)
        raise gr.Error("that model is not available in this session")
    if isinstance(genre, str) and genre in {g.id for g in service.installed_genres()}:
        return genre
    raise gr.Error(f"unknown genre {genre!r}; choose one of the list")


def _unchanged() -> list:
    """Component values that leave every result component as it is (one per output of _show)."""
    return [gr.skip() for _ in range(3 + 2 * service.SLOTS)]


def _listen(streams) -> list:
    """As soon as the streams exist: each variation's player starts (the first one playing), and
    the previous result's figures and downloads are cleared."""
    values = ["", gr.File(value=None, visible=False), None]
    for slot in range(service.SLOTS):
        if slot < len(streams):
            values += [gr.HTML(value=listen.player_value(streams[slot], complete=False, autoplay=slot == 0), visible=True),
                       gr.Image(value=None, visible=True)]
        else:
            values += [gr.HTML(value="", visible=False), gr.Image(value=None, visible=False)]
    return values


def _show(result: service.Result, streams) -> list:
    """Component values for a result: figures, zip, every download, then (player, roll) per slot.
    Sent as soon as the files are written (the players keep playing their growing streams), and
    again once every stream is encoded: each player then gets its seek bar and its Ogg download,
    and several variations their zip. Everything is sent both times, as an API client gets only the
    last values."""
    figures = result.figures
    timings = result.outputs[0].timings
    lines = [f"**Random seed {result.random_seed}** (variation k uses seed {result.random_seed} + k) on "
             f"{figures['device']}; done in {figures['total_s']:.2f} s (sampling {figures['sampling_s']:.2f} s, "
             f"MIDI {timings['midi_s']:.3f} s, rendering {timings['render_s']:.2f} s more per variation: "
             "it runs while the notes are sampled)."]
    if figures.get("seed_note"):
        lines.append(f"- {figures['seed_note'][:1].upper()}{figures['seed_note'][1:]}.")
    for output in result.outputs:
        lines.append(f"- seed {output.piece.random_seed}: {len(output.piece.steps)} steps, "
                     f"{output.music_seconds:.0f} s of music" + (" (ended naturally)" if output.piece.ended_naturally else ""))
    every_file = [str(path) for output in result.outputs for path in (output.wav, output.midi) if path is not None]
    if not result.complete:
        archive = gr.skip()
    else:
        archive = gr.File(value=str(result.archive), visible=True) if result.archive else gr.File(value=None, visible=False)
    values = ["\n".join(lines), archive, every_file]
    for slot in range(service.SLOTS):
        if slot < len(result.outputs):
            player = gr.skip()
            if result.complete and slot < len(streams):
                player = listen.player_value(streams[slot], complete=True, name=f"{result.outputs[slot].midi.stem}.ogg")
            values += [player, gr.Image(value=str(result.pianorolls[slot]), visible=True)]
        else:
            values += [gr.HTML(value="", visible=False), gr.Image(value=None, visible=False)]
    return values


@readable_errors
def on_genre(genre, request: gr.Request):
    """New genre (shipped or the session's own): its seed windows and its default sampling settings."""
    folder = _folder_of(genre, request)
    if folder is None:
        return gr.Dropdown(), *(gr.Slider() for _ in GENRE_SETTINGS), gr.Textbox()
    choices = service.seed_choices(folder)
    return (gr.Dropdown(choices=choices, value=choices[0]),
            *(service.default_setting(folder, name) for name in GENRE_SETTINGS),
            gr.Textbox(placeholder=_parts_hint(folder)))


def _parts_hint(folder) -> str:
    """The genre's parts, in the order the Parts box takes them."""
    names = service.part_names(folder) if folder else []
    return ", ".join(names) if names else "one part: choose its instrument above"


@readable_errors
def duration_text(genre, length, bars, tempo, request: gr.Request):
    folder = _folder_of(genre, request)
    if folder is None:
        return ""
    try:
        tempo_bpm = FIELD["tempo"].convert(tempo)
        seconds = approximate_seconds(folder, FIELD["length"].convert(length), tempo_bpm, FIELD["bars"].convert(bars))
    except GenreLSTMError as error:
        return str(error)
    return f"About {seconds / 60:.1f} minutes of music ({seconds:.0f} s)."


def _folder_of(genre, request: gr.Request | None) -> Path | None:
    """The checkpoint folder behind a dropdown value, or None for a value that names nothing."""
    try:
        return service.model_folder(_model_of(genre, request))
    except (gr.Error, GenreLSTMError):
        return None


QUEUE = jobs.JobQueue()
RUNNING = service.RunningRequests()


@readable_errors
def start_training(files, name, size, minutes, base, request: gr.Request):
    """Start (or queue) this session's training job; report the data first."""
    try:
        uploads = [str(f) for f in files or [] if isinstance(f, (str, os.PathLike))]
        job = QUEUE.submit(_session_of(request), uploads, jobs.JobRequest.from_form(name, size, minutes, base))
    except GenreLSTMError as error:
        raise gr.Error(str(error)) from error
    report = job.report
    skipped = "\n".join(f"- skipped {n}: {r}" for n, r in report["skipped"]) or "- nothing skipped"
    skipped += "".join(f"\n- {note}" for note in report["left_out"])
    repeats = f", {_count(report['repeats'], 'repeated piece')} left out" if report["repeats"] else ""
    text = (f"**Data:** {_count(report['files_read'], 'file')} read, {_count(report['pieces'], 'piece')}{repeats}, "
            f"{_count(report['steps'], 'step')}, {report['vocabulary']:,} distinct notes/chords.\n{skipped}")
    return text, job.id, gr.Timer(active=True)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


@readable_errors
def poll_training(job_id, request: gr.Request):
    """Every 2 s while a job runs: status, ETA, loss curve; the genre list when it ends."""
    import pandas as pd

    QUEUE.schedule()
    job = QUEUE.jobs.get(job_id or "")
    if job is None or job.owner != request.session_hash:
        return "No training job.", None, gr.Timer(active=False), gr.Dropdown(), None
    epochs = job.epochs()
    rows = [{"epoch": e["epoch"], "loss": v, "split": split} for e in epochs
            for split, v in (("training", e["loss"]), ("held-out", e["val_loss"]))]
    curve = pd.DataFrame(rows, columns=["epoch", "loss", "split"])
    if job.status == "queued":
        return f"Queued: position {QUEUE.position(job)}.", curve, gr.Timer(active=True), gr.Dropdown(), None
    if job.status == "running":
        spent = time.time() - (job.started or time.time())
        budget = 60 * job.request.minutes
        eta = max(0.0, budget - spent)
        best = min((e["val_loss"] for e in epochs), default=float("nan"))
        done = 100 * min(1.0, spent / budget)
        return (f"<progress value='{done:.0f}' max='100' style='width:100%'></progress><br>"
                f"Training: epoch {len(epochs)}, best held-out loss {best:.3f}; about {eta / 60:.1f} min left "
                f"of the budget ({done:.0f}%)."), curve, gr.Timer(active=True), gr.Dropdown(), None
    archive = None
    choices = gr.Dropdown()
    if job.checkpoint.is_dir():
        archive = str(service.zip_folder(job.checkpoint, job.folder / f"{job.request.name}.zip"))
        mine = [(f"Mine: {j.request.name}", MINE + j.id) for j in QUEUE.jobs.values()
                if j.owner == request.session_hash and j.checkpoint.is_dir()]
        choices = gr.Dropdown(choices=_genre_choices() + mine)
    return f"Training {job.status}: {job.message}", curve, gr.Timer(active=False), choices, archive


@readable_errors
def stop_training(job_id, request: gr.Request):
    job = QUEUE.jobs.get(job_id or "")
    if job and job.owner == request.session_hash:
        job.stop()
        return "Stopping after the current batch; the best weights so far are kept."
    return "No training job to stop."


@readable_errors
def push_to_hub(job_id, repo, token, request: gr.Request):
    """Upload this session's checkpoint; the token is used for this call only, never logged or kept."""
    from genre_lstm.store.hub import push_checkpoint

    job = QUEUE.jobs.get(job_id or "")
    if job is None or job.owner != request.session_hash or not job.checkpoint.is_dir():
        raise gr.Error("train a model first")
    try:
        return f"Uploaded: {push_checkpoint(job.checkpoint, (repo or '').strip(), token=token or None)}"
    except GenreLSTMError as error:
        raise gr.Error(str(error)) from error


@readable_errors
def end_session(request: gr.Request):
    """The tab was closed (or its connection dropped): stop the session's requests and training job,
    and delete their folders, uploads and cached notes."""
    RUNNING.stop_session(_session_of(request))
    QUEUE.remove_owner(_session_of(request))
    listen.STORE.remove_owner(_session_of(request))


@readable_errors
def first_midi(files):
    """The Continue button: the first variation's MIDI (Gradio's copy of it) becomes the seed."""
    midis = service.midi_files_of(files)
    if not midis:
        raise gr.Error("generate something first: there is no result to continue")
    return str(midis[0])


def render_wavs(files):
    """The WAV button: each variation's WAV, rendered from its MIDI file now (a result keeps only its
    MIDI and its Ogg stream until a WAV is asked for), added to the downloads. A generator, so its
    folder is deleted once Gradio has copied the WAVs to its cache."""
    work = Path(tempfile.mkdtemp(prefix="genre-lstm-wav-"))
    try:
        with readable_failures():
            kept = [str(f) for f in files or [] if not str(f).lower().endswith(".wav")]
            yield kept + [str(p) for p in service.midi_files_to_wavs(kept, work)]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _genre_choices() -> list[tuple[str, str]]:
    return [(service.genre_label(g), g.id) for g in service.installed_genres()]


@readable_errors
def measure(genre, request: gr.Request):
    """The Compare tab's live figures, for a genre of the list or this session's own model only."""
    model = _model_of(genre or DEFAULT_GENRE, request)
    try:
        figures = compare.measure_one_minute(model)
    except GenreLSTMError as error:
        raise gr.Error(str(error)) from error
    rows = "\n".join(f"| {k.replace('_', ' ')} | {v} |" for k, v in figures.items())
    return f"Measured just now on this machine:\n\n| figure | value |\n|---|---|\n{rows}"


def _checked_by_request(component):
    """Hand a widget's raw value to the request, which checks it, instead of Gradio's own bounds
    check: the form, the API and the command line then refuse a value with the same message.
    (Per instance: a subclass of a Gradio component makes Gradio write a .pyi file beside ours.)"""
    component.preprocess = lambda payload: payload
    return component


def _elem_id(name: str) -> str:
    return name.replace("_", "-")


def _slider(name: str, **options) -> gr.Slider:
    """A slider over a request field's whole range, with its default and label."""
    field = FIELD[name]
    options.setdefault("value", field.default)
    return _checked_by_request(gr.Slider(field.low, field.high, step=1 if field.kind is int else 0.05,
                                         label=field.label, elem_id=_elem_id(name), **options))


def _number(name: str, **options) -> gr.Number:
    field = FIELD[name]
    options.setdefault("value", field.default)
    return _checked_by_request(gr.Number(minimum=0 if field.zero_is_default else field.low, maximum=field.high,
                                         label=field.label, precision=0 if field.kind is int else None,
                                         elem_id=_elem_id(name), **options))


def _checkbox(name: str) -> gr.Checkbox:
    return gr.Checkbox(FIELD[name].default, label=FIELD[name].label, elem_id=_elem_id(name))


def build_demo() -> gr.Blocks:
    genres = service.installed_genres()
    genre_choices = _genre_choices()
    shown = next((g for g in genres if g.id == DEFAULT_GENRE), genres[0] if genres else None)  # a bare call's genre
    first = shown.id if shown else None
    first_folder = shown.local_dir() if shown else None
    with gr.Blocks(title="genre-lstm", delete_cache=(300, listen.MAX_AGE_S)) as demo:
        gr.Markdown("# genre-lstm\nPick a genre, upload a seed or use one of the genre's held-out pieces, "
                    "click **Generate**, then listen and download the WAV or MIDI.")
        with gr.Tab("Generate"):
            with gr.Row():
                with gr.Column(scale=1):
                    genre = gr.Dropdown(genre_choices, value=first, label="Genre", elem_id="genre",
                                        allow_custom_value=True)  # a session's own models join the list
                    seed_file = gr.File(label="Seed file (optional)", file_types=[".mid", ".midi", ".xml", ".musicxml",
                                                                                  ".mxl", ".abc"], elem_id="seed-file")
                    gr.Markdown(UPLOAD_NOTE, elem_id="upload-note")
                    seed_choice = gr.Dropdown(service.seed_choices(first_folder) if first_folder else [],
                                              value=service.RANDOM_SEED_CHOICE,
                                              label="Or a held-out piece of the genre", elem_id="seed-choice",
                                              allow_custom_value=True)  # API callers name any genre's pieces
                    knobs = {"seed_length": _slider("seed_length"), "length": _slider("length"),
                             "bars": _number("bars", value=0)}
                    duration = gr.Markdown(elem_id="duration")
                    with gr.Accordion("Rhythm, sampling and sound", open=False):
                        knobs["rhythm"] = _checked_by_request(gr.Radio(
                            list(FIELD["rhythm"].choices), value="learned", label=FIELD["rhythm"].label, elem_id="rhythm"))
                        with gr.Row():
                            knobs["offset_min"], knobs["offset_max"] = _number("offset_min"), _number("offset_max")
                        for name in GENRE_SETTINGS:
                            knobs[name] = _slider(name, value=service.default_setting(first_folder, name))
                        knobs["top_k"] = _slider("top_k", value=0)
                        knobs["tempo"] = _number("tempo", value=0)
                        knobs["instrument"] = _checked_by_request(gr.Dropdown(
                            service.instrument_choices(), value=service.GENRE_DEFAULT, label=FIELD["instrument"].label,
                            elem_id="instrument"))
                        knobs["parts"] = gr.Textbox("", label=FIELD["parts"].label, elem_id="parts",
                                                    placeholder=_parts_hint(first_folder))
                        knobs["transpose"] = _slider("transpose")
                        knobs["include_seed"], knobs["natural_ending"] = _checkbox("include_seed"), _checkbox("natural_ending")
                    with gr.Row():
                        knobs["random_seed"] = _number("random_seed")
                        new_seed = gr.Checkbox(False, label="New seed each time", elem_id="new-seed")
                    knobs["variations"] = _slider("variations")
                    with gr.Row():
                        button = gr.Button("Generate", variant="primary", elem_id="generate")
                        cancel = gr.Button("Cancel", elem_id="cancel")
                with gr.Column(scale=2):
                    slots = []
                    for slot in range(service.SLOTS):
                        with gr.Group():
                            slots += [gr.HTML("", html_template=listen.PLAYER_TEMPLATE.format(label=f"Variation {slot + 1}"),
                                              js_on_load=listen.PLAYER_JS, visible=slot == 0, elem_id=f"audio-{slot}"),
                                      gr.Image(label="Piano roll", type="filepath", visible=slot == 0,
                                               elem_id=f"roll-{slot}", interactive=False, show_label=False)]
                    downloads = gr.File(label="Downloads: the MIDI of each variation (and its WAV once rendered)",
                                        file_count="multiple", elem_id="downloads", interactive=False)
                    wav_button = gr.Button("Render the WAV of each variation (the player's Ogg is under it)",
                                           elem_id="render-wav", size="sm")
                    archive = gr.File(label="All variations (zip)", elem_id="zip", visible=False, interactive=False)
                    figures = gr.Markdown(elem_id="figures")
                    continue_button = gr.Button("Continue this result (use variation 1 as the seed)",
                                                elem_id="continue")
            sources = {"genre": genre, "seed_file": seed_file, "seed_choice": seed_choice, "new_seed": new_seed}
            inputs = [sources[name] for name in SOURCE_INPUTS] + [knobs[f.name] for f in FIELDS]
            event = button.click(generate, inputs, [figures, archive, downloads, *slots], api_name="generate",
                                 concurrency_limit=2)
            cancel.click(cancel_requests, None, None, js=listen.PAUSE_PLAYERS_JS, cancels=[event], api_name=False)
            continue_button.click(first_midi, downloads, seed_file, api_name="continue_result")
            wav_button.click(render_wavs, downloads, downloads, api_name="wav", concurrency_limit=2)
            genre.change(on_genre, genre, [seed_choice, *(knobs[name] for name in GENRE_SETTINGS), knobs["parts"]],
                         api_name=False)
            shown = [genre, knobs["length"], knobs["bars"], knobs["tempo"]]
            for control in shown:
                control.change(duration_text, shown, duration, api_name=False)
            demo.load(duration_text, shown, duration, api_name=False)
        demo.unload(end_session)
        if not TRAIN_TAB.is_off():
            _train_tab(genre)
        with gr.Tab("Compare with Jukebox and GANSynth"):
            gr.Markdown("Three ways to make music in a genre: OpenAI's Jukebox (raw audio), Magenta's GANSynth "
                        "(raw audio, one note at a time) and this project (symbolic, one LSTM per genre).")
            gr.Markdown(compare.facts_markdown(), elem_id="facts")
            measure_button = gr.Button("Measure this project on this machine (about one minute of music)",
                                       elem_id="measure")
            live = gr.Markdown(elem_id="live-figures")
            measure_button.click(measure, genre, live, api_name="measure")
            gr.Button(visible=False).click(lambda: "ok", None, gr.Textbox(visible=False), api_name="ping")
            found, message = compare.clips()
            gr.Markdown(message, elem_id="clips-note")
            for clip in found:
                gr.Audio(clip["path"], label=f"{clip.get('model')}: {clip.get('caption', '')}", interactive=False)
    return demo


def _train_tab(genre_dropdown) -> None:
    limits = (f"Limits: {jobs.MAX_STEPS:,} steps, {jobs.MAX_MINUTES} minutes of training, "
              f"{MAX_UPLOAD} per file, 500 files and 64 MB per zip; one job per user and one at a time "
              "(others wait in a queue). Your model is visible to you only and deleted when you leave.")
    with gr.Tab("Train your own"):
        gr.Markdown("Upload MIDI files (or one zip of them), name your genre, and train a model of it. " + limits)
        with gr.Row():
            with gr.Column():
                files = gr.File(label="MIDI, MusicXML or ABC files, or a zip", file_count="multiple",
                                elem_id="train-files")
                name = gr.Textbox(label="Genre name", value="my-genre", elem_id="train-name")
                size = _checked_by_request(gr.Radio(list(jobs.SIZES), value="small", label="Model size",
                                                    elem_id="train-size"))
                minutes = _checked_by_request(gr.Slider(jobs.MINUTES.low, jobs.MINUTES.high, value=jobs.MINUTES.default,
                                                        step=0.1, label=jobs.MINUTES.label, elem_id="train-minutes"))
                base = gr.Dropdown(["none"] + [g.id for g in service.installed_genres()], value="none",
                                   label="Start from a shipped genre (fine-tune)", elem_id="train-base")
                with gr.Row():
                    start = gr.Button("Start", variant="primary", elem_id="train-start")
                    stop = gr.Button("Stop", elem_id="train-stop")
            with gr.Column():
                report = gr.Markdown(elem_id="train-report")
                status = gr.HTML(elem_id="train-status")  # a progress bar with the ETA
                curve = gr.LinePlot(x="epoch", y="loss", color="split", title="Loss per epoch", elem_id="train-plot")
                archive = gr.File(label="Your checkpoint (hub layout, zip)", elem_id="train-zip")
                with gr.Accordion("Push to the Hugging Face hub", open=False):
                    repo = gr.Textbox(label="Repo id (OWNER/NAME)", elem_id="push-repo")
                    token = gr.Textbox(label="Token (used once, never stored)", type="password", elem_id="push-token")
                    push = gr.Button("Push", elem_id="push")
                    pushed = gr.Markdown()
        job_id = gr.State()
        timer = gr.Timer(2.0, active=False)
        start.click(start_training, [files, name, size, minutes, base], [report, job_id, timer], api_name="train")
        timer.tick(poll_training, job_id, [status, curve, timer, genre_dropdown, archive], api_name="training_status")
        stop.click(stop_training, job_id, status, api_name="stop_training")
        push.click(push_to_hub, [job_id, repo, token], pushed, api_name=False)


def launch(demo: gr.Blocks, **options):
    """Queue and serve the app, with the route of the players' audio streams (genre_lstm.app.listen)."""
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo.launch(max_file_size=MAX_UPLOAD, app_kwargs={"routes": listen.routes()}, **options)


def main() -> None:
    service.sweep_stale_work()
    service.limit_malloc_arenas()
    service.one_inference_thread()
    launch(build_demo(), server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))


if __name__ == "__main__":
    main()
