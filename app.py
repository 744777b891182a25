"""genre-lstm's Gradio app: pick a genre, give a seed, click Generate, listen and download.

This file lays out the UI and forwards values to the library (genre_lstm.service and
genre_lstm.compare); no music logic lives here.
Run: python app.py  (serves on 127.0.0.1:7860; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from genre_lstm import compare, service
from genre_lstm.errors import GenreLSTMError

MAX_UPLOAD = "8mb"
SLOTS = service.MAX_VARIATIONS
UPLOAD_NOTE = (f"Uploads (up to {MAX_UPLOAD}: MIDI, MusicXML or ABC) are used for your request only and deleted "
               "with its results; nothing is kept or shared.")


def generate(genre=None, seed_file=None, seed_choice=None, seed_length=100, length=500, rhythm="learned",
             offset_min=0.1, offset_max=0.9, temperature=1.0, top_k=0, tempo=0, instrument=None, transpose=0,
             random_seed=0, new_seed=False, variations=1, include_seed=False, natural_ending=False,
             progress=gr.Progress()):
    """The Generate button: a generator, so Cancel stops it between steps."""
    from genre_lstm.backend import import_keras
    from genre_lstm.generate import Progress

    import_keras()
    request = service.Request(
        genre=genre or service.Request.genre, seed_file=seed_file, seed_choice=seed_choice or service.RANDOM_SEED_CHOICE,
        seed_length=int(seed_length), length=int(length), rhythm=rhythm, offset_min=float(offset_min),
        offset_max=float(offset_max), temperature=float(temperature), top_k=int(top_k), tempo_bpm=float(tempo or 0),
        instrument=instrument or service.GENRE_DEFAULT, transpose=int(transpose), random_seed=int(random_seed or 0), new_seed=bool(new_seed),
        variations=int(variations), include_seed=bool(include_seed), natural_ending=bool(natural_ending))
    work = Path(tempfile.mkdtemp(prefix="genre-lstm-request-"))
    try:
        for item in service.run(request, work):
            if isinstance(item, Progress):
                progress(0.8 * item.done / item.total, desc=f"sampling step {item.done} of {item.total}")
            elif isinstance(item, service.Result):
                yield _show(item, work)
            else:
                progress(0.8 + 0.2 * item.done / item.total, desc=f"rendering {item.done} of {item.total}")
    except GenreLSTMError as error:
        raise gr.Error(str(error)) from error
    finally:  # Gradio has copied the files it serves into its own cache by now
        shutil.rmtree(work, ignore_errors=True)


def _show(result: service.Result, work: Path) -> list:
    """Component values for a result: figures, zip, then (audio, roll, files) per slot."""
    figures = result.figures
    timings = result.outputs[0].timings
    lines = [f"**Random seed {result.random_seed}** (variation k uses seed {result.random_seed} + k) on "
             f"{figures['device']}; done in {figures['total_s']:.2f} s (sampling {figures['sampling_s']:.2f} s, "
             f"MIDI {timings['midi_s']:.3f} s, rendering {timings['render_s']:.2f} s per variation)."]
    for output in result.outputs:
        lines.append(f"- seed {output.piece.random_seed}: {len(output.piece.steps)} steps, "
                     f"{output.music_seconds:.0f} s of music" + (" (ended naturally)" if output.piece.ended_naturally else ""))
    every_file = [str(path) for output in result.outputs for path in (output.wav, output.midi)]
    values = ["\n".join(lines), str(result.archive), every_file, str(result.outputs[0].midi)]
    for slot in range(SLOTS):
        if slot < len(result.outputs):
            output = result.outputs[slot]
            values += [gr.Audio(value=str(output.wav), visible=True), gr.Image(value=str(result.pianorolls[slot]), visible=True),
                       gr.File(value=[str(output.wav), str(output.midi)], visible=True)]
        else:
            values += [gr.Audio(value=None, visible=False), gr.Image(value=None, visible=False),
                       gr.File(value=None, visible=False)]
    return values


def on_genre(genre):
    """New genre: its seed windows and its default temperature."""
    choices = service.seed_choices(genre)
    return gr.Dropdown(choices=choices, value=choices[0]), service.default_temperature(genre)


def duration_text(genre, length, tempo):
    if not genre:
        return ""
    seconds = service.approximate_seconds(genre, int(length), float(tempo or 0))
    return f"About {seconds / 60:.1f} minutes of music ({seconds:.0f} s)."


def measure(genre):
    try:
        figures = compare.measure_one_minute(genre or service.Request.genre)
    except GenreLSTMError as error:
        raise gr.Error(str(error)) from error
    rows = "\n".join(f"| {k.replace('_', ' ')} | {v} |" for k, v in figures.items())
    return f"Measured just now on this machine:\n\n| figure | value |\n|---|---|\n{rows}"


def build_demo() -> gr.Blocks:
    genres = service.installed_genres()
    genre_choices = [(service.genre_label(g), g.id) for g in genres]
    first = genres[0].id if genres else None
    with gr.Blocks(title="genre-lstm", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# genre-lstm\nPick a genre, upload a seed or use one of the genre's held-out pieces, "
                    "click **Generate**, then listen and download the WAV or MIDI.")
        with gr.Tab("Generate"):
            with gr.Row():
                with gr.Column(scale=1):
                    genre = gr.Dropdown(genre_choices, value=first, label="Genre", elem_id="genre")
                    seed_file = gr.File(label="Seed file (optional)", file_types=[".mid", ".midi", ".xml", ".musicxml",
                                                                                  ".mxl", ".abc"], elem_id="seed-file")
                    gr.Markdown(UPLOAD_NOTE, elem_id="upload-note")
                    seed_choice = gr.Dropdown(service.seed_choices(first) if first else [], value=service.RANDOM_SEED_CHOICE,
                                              label="Or a held-out piece of the genre", elem_id="seed-choice",
                                              allow_custom_value=True)  # API callers name any genre's pieces
                    seed_length = gr.Slider(1, 200, value=100, step=1, label="Seed steps to use", elem_id="seed-length")
                    length = gr.Slider(16, 1000, value=500, step=1, label="Length (steps)", elem_id="length")
                    duration = gr.Markdown(elem_id="duration")
                    with gr.Accordion("Rhythm, sampling and sound", open=False):
                        rhythm = gr.Radio(["learned", "random"], value="learned", label="Rhythm (learned, or the "
                                          "paper's random offsets)", elem_id="rhythm")
                        with gr.Row():
                            offset_min = gr.Number(0.1, label="Offset min (quarters)", elem_id="offset-min")
                            offset_max = gr.Number(0.9, label="Offset max (quarters)", elem_id="offset-max")
                        temperature = gr.Slider(0.1, 2.0, value=service.default_temperature(first) if first else 1.0,
                                                step=0.05, label="Temperature", elem_id="temperature")
                        top_k = gr.Slider(0, 200, value=0, step=1, label="Top-k (0 = off)", elem_id="top-k")
                        tempo = gr.Slider(0, 240, value=0, step=1, label="Tempo BPM (0 = the genre's)", elem_id="tempo")
                        instrument = gr.Dropdown(service.instrument_choices(), value=service.GENRE_DEFAULT,
                                                 label="Instrument", elem_id="instrument")
                        transpose = gr.Slider(-12, 12, value=0, step=1, label="Transpose (semitones)", elem_id="transpose")
                        include_seed = gr.Checkbox(False, label="Put the seed in front", elem_id="include-seed")
                        natural_ending = gr.Checkbox(False, label="Allow a natural ending", elem_id="natural-ending")
                    with gr.Row():
                        random_seed = gr.Number(0, precision=0, label="Random seed", elem_id="random-seed")
                        new_seed = gr.Checkbox(False, label="New seed each time", elem_id="new-seed")
                    variations = gr.Slider(1, SLOTS, value=1, step=1, label="Variations", elem_id="variations")
                    with gr.Row():
                        button = gr.Button("Generate", variant="primary", elem_id="generate")
                        cancel = gr.Button("Cancel", elem_id="cancel")
                with gr.Column(scale=2):
                    figures = gr.Markdown(elem_id="figures")
                    archive = gr.File(label="All variations (zip)", elem_id="zip")
                    downloads = gr.File(label="Every WAV and MIDI", file_count="multiple", elem_id="downloads")
                    last_midi = gr.State()
                    continue_button = gr.Button("Continue this result (use variation 1 as the seed)",
                                                elem_id="continue")
                    slots = []
                    for slot in range(SLOTS):
                        with gr.Group():
                            slots += [gr.Audio(label=f"Variation {slot + 1}", type="filepath", visible=slot == 0,
                                               elem_id=f"audio-{slot}", interactive=False),
                                      gr.Image(label="Piano roll", type="filepath", visible=slot == 0,
                                               elem_id=f"roll-{slot}", interactive=False),
                                      gr.File(label="Download WAV and MIDI", file_count="multiple", visible=slot == 0,
                                              elem_id=f"files-{slot}", interactive=False)]
            inputs = [genre, seed_file, seed_choice, seed_length, length, rhythm, offset_min, offset_max, temperature,
                      top_k, tempo, instrument, transpose, random_seed, new_seed, variations, include_seed,
                      natural_ending]
            event = button.click(generate, inputs, [figures, archive, downloads, last_midi, *slots], api_name="generate",
                                 concurrency_limit=2)
            cancel.click(None, cancels=[event], api_name=False)
            continue_button.click(lambda path: path, last_midi, seed_file, api_name="continue_result")
            genre.change(on_genre, genre, [seed_choice, temperature], api_name=False)
            for control in (genre, length, tempo):
                control.change(duration_text, [genre, length, tempo], duration, api_name=False)
            demo.load(duration_text, [genre, length, tempo], duration, api_name=False)
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


def main() -> None:
    demo = build_demo()
    demo.queue(default_concurrency_limit=2, max_size=64)
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), max_file_size=MAX_UPLOAD)


if __name__ == "__main__":
    main()
