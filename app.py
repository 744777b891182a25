"""genre-lstm's Gradio app: pick a genre, give a seed, click Generate, listen and download.

This file lays out the UI and calls the library; all music logic lives in genre_lstm/.
Run: python app.py  (serves on 127.0.0.1:7860; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import gradio as gr

from genre_lstm.errors import GenreLSTMError
from genre_lstm.genres import GENRES

MAX_UPLOAD = "8mb"


def available_genres() -> list[tuple[str, str]]:
    """(label, id) of the genres whose checkpoints are installed here."""
    return [(f"{g.name} - {g.source}", g.id) for g in GENRES.values() if g.local_dir().is_dir()]


def generate_piece(genre, seed_file, length, rhythm, offset_min, offset_max, temperature, random_seed,
                   progress=gr.Progress()):
    """One request: load (cached) checkpoint, read the seed, generate, write MIDI and WAV."""
    from genre_lstm.backend import device_description, import_keras
    from genre_lstm.generate import GenerationSettings
    from genre_lstm.hub import get_checkpoint
    from genre_lstm.midi_io import music_file_to_steps
    from genre_lstm.pipeline import make_music

    import_keras()
    work = Path(tempfile.mkdtemp(prefix="genre-lstm-"))
    try:
        if not genre:
            raise GenreLSTMError("pick a genre first")
        checkpoint = get_checkpoint(genre)
        seed = music_file_to_steps(seed_file) if seed_file else checkpoint.seed_steps(int(random_seed))
        settings = GenerationSettings(length=int(length), rhythm=rhythm, offset_min=float(offset_min),
                                      offset_max=float(offset_max), temperature=float(temperature),
                                      random_seed=int(random_seed))
        [output] = make_music(checkpoint, seed, settings, work, name=genre,
                              on_progress=lambda p: progress(p.done / p.total, desc="sampling"))
        keep = Path(tempfile.mkdtemp(prefix="genre-lstm-out-"))
        midi, wav = (Path(shutil.copy(f, keep)) for f in (output.midi, output.wav))
        figures = (f"{len(output.piece.steps)} steps, {output.music_seconds:.0f} s of music, sampled in "
                   f"{output.timings['sampling_s']:.2f} s, rendered in {output.timings['render_s']:.2f} s "
                   f"on {device_description()}; random seed {output.piece.random_seed}")
        return str(wav), [str(midi), str(wav)], figures
    except GenreLSTMError as error:
        raise gr.Error(str(error)) from error
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_demo() -> gr.Blocks:
    choices = available_genres()
    with gr.Blocks(title="genre-lstm") as demo:
        gr.Markdown("# genre-lstm\nPick a genre, give a seed (or use a held-out one), click Generate.")
        with gr.Row():
            with gr.Column():
                genre = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Genre",
                                    elem_id="genre")
                seed_file = gr.File(label=f"Seed (MIDI, MusicXML or ABC; up to {MAX_UPLOAD}; kept only for "
                                    "this request)", file_types=[".mid", ".midi", ".xml", ".musicxml", ".mxl", ".abc"],
                                    elem_id="seed")
                length = gr.Slider(16, 1000, value=500, step=1, label="Length (steps)", elem_id="length")
                rhythm = gr.Radio(["learned", "random"], value="learned", label="Rhythm", elem_id="rhythm")
                with gr.Row():
                    offset_min = gr.Number(0.1, label="Offset min (quarters)", elem_id="offset-min")
                    offset_max = gr.Number(0.9, label="Offset max (quarters)", elem_id="offset-max")
                temperature = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label="Temperature", elem_id="temperature")
                random_seed = gr.Number(0, precision=0, label="Random seed", elem_id="random-seed")
                button = gr.Button("Generate", variant="primary", elem_id="generate")
            with gr.Column():
                audio = gr.Audio(label="Listen", type="filepath", elem_id="audio")
                files = gr.File(label="Download", file_count="multiple", elem_id="downloads")
                figures = gr.Markdown(elem_id="figures")
        button.click(generate_piece, [genre, seed_file, length, rhythm, offset_min, offset_max, temperature,
                                      random_seed], [audio, files, figures], api_name="generate")
    return demo


if __name__ == "__main__":
    build_demo().queue(default_concurrency_limit=2, max_size=64).launch(max_file_size=MAX_UPLOAD)
