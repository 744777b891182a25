"""Training your own genre through the real app: gradio_client and Debian's Chromium."""

from __future__ import annotations

import re
import time
import zipfile

import pytest
from gradio_client import Client, handle_file

from genre_lstm.music.midi_io import midi_file_to_steps, steps_to_midi_file


@pytest.fixture(scope="module")
def midi_files(tmp_path_factory, irish_pieces):
    folder = tmp_path_factory.mktemp("uploads")
    return [steps_to_midi_file(p.steps, folder / f"tune{i}.mid") for i, p in enumerate(irish_pieces[:10])]


def _wait_for_end(client, limit=240):
    deadline = time.time() + limit
    while time.time() < deadline:
        status, curve, _, genres, archive = client.predict(api_name="/training_status")
        if re.search(r"Training (finished|stopped|failed)", status):
            return status, curve, genres, archive
        time.sleep(2)
    raise AssertionError("training did not end in time")


def test_train_through_the_app_then_generate_from_the_result(server, midi_files, tmp_path):
    client = Client(server, verbose=False)
    report, _ = client.predict(files=[handle_file(str(p)) for p in midi_files], name="tiny-reels", size="small",
                            minutes=0.2, base="none", api_name="/train")
    assert "10 files read" in report and "10 pieces" in report
    status, curve, genres, archive = _wait_for_end(client)
    assert "failed" not in status, status
    assert len(curve["data"]) >= 2  # at least one epoch, training and held-out
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
    assert {"checkpoint/model.weights.h5", "checkpoint/vocabulary.json", "checkpoint/README.md"} <= set(names)
    mine = [value for _, value in genres["choices"] if value.startswith("mine:")]
    assert len(mine) == 1
    result = client.predict(genre=mine[0], length=32, api_name="/generate")
    midi = [f for f in result[2] if str(f).endswith(".mid")][0]
    assert len(midi_file_to_steps(midi)) == 32
    other = Client(server, verbose=False)  # another user cannot use it
    with pytest.raises(Exception, match="not available in this session"):
        other.predict(genre=mine[0], length=16, api_name="/generate")


def test_bad_training_uploads_are_reported_and_nothing_escapes(server, midi_files, tmp_path):
    client = Client(server, verbose=False)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as bundle:
        bundle.write(midi_files[0], "ok.mid")
        bundle.writestr("../../escaped.mid", midi_files[1].read_bytes())
    with pytest.raises(Exception, match="outside the folder"):
        client.predict(files=[handle_file(str(evil))], name="evil", api_name="/train")
    junk = tmp_path / "junk.zip"
    with zipfile.ZipFile(junk, "w") as bundle:
        bundle.writestr("readme.txt", "hello")
        bundle.writestr("image.png", b"\x89PNG")
    with pytest.raises(Exception, match=r"too little music to train: 0 distinct pieces.*skipped junk.zip/readme.txt"):
        client.predict(files=[handle_file(str(junk))], name="junk", api_name="/train")
    assert not list(tmp_path.parent.rglob("escaped.mid"))


def test_in_the_browser_upload_train_watch_stop_and_generate(server, chromium, screenshots, midi_files):
    from pathlib import Path

    page = chromium.new_page(viewport={"width": 1400, "height": 1600})
    try:
        page.goto(server, wait_until="load")
        page.get_by_role("tab", name="Train your own").first.click()
        page.locator("#train-files input[type=file]").set_input_files([str(p) for p in midi_files])
        page.locator("#train-name input, #train-name textarea").first.fill("browser-reels")
        page.locator("#train-minutes input[type=number]").fill("5")
        page.locator("#train-minutes input[type=number]").press("Enter")
        page.locator("#train-start").click()
        page.wait_for_selector("#train-report :text('10 files read')", timeout=60_000)
        # The status is polled every 2 s: on a quiet machine a small job may pass epoch 2, or even
        # stop early on its own, between two polls.
        status = "document.querySelector('#train-status')?.innerText || ''"
        page.wait_for_function(f"() => /Training: epoch ([2-9]|[1-9][0-9]+)|Training finished/.test({status})",
                               timeout=180_000)
        page.locator("#train-plot canvas, #train-plot svg").first.wait_for(timeout=30_000)
        page.screenshot(path=str(screenshots / "train.png"), full_page=True)
        page.locator("#train-stop").click()
        page.wait_for_function(f"() => /Training (stopped|finished)/.test({status})", timeout=120_000)
        zip_link = page.locator("#train-zip a[href]").first
        assert Path(zip_link.get_attribute("href").split("?")[0]).suffix == ".zip"

        page.get_by_role("tab", name="Generate").first.click()
        shipped_duration = page.locator("#duration").inner_text()
        page.locator("#genre input").first.click()
        page.get_by_role("option", name="Mine: browser-reels").click()
        # Its own seed windows and duration replace the shipped genre's, with no error badge.
        duration = "document.querySelector('#duration')?.innerText || ''"
        page.wait_for_function(f"() => /About .* minutes/.test({duration}) && {duration} !== {shipped_duration!r}",
                               timeout=30_000)
        page.locator("#seed-choice input").first.click()
        page.get_by_role("option", name=re.compile("^#0: ")).first.wait_for(timeout=30_000)
        page.keyboard.press("Escape")
        page.locator("#length input[type=number]").fill("24")
        page.locator("#length input[type=number]").press("Enter")
        page.locator("#generate").click()
        page.wait_for_selector("#figures :text('24 steps')", timeout=120_000)
        assert page.get_by_text("Error", exact=True).count() == 0
        page.screenshot(path=str(screenshots / "generate-mine.png"), full_page=True)
    finally:
        page.close()


def test_closing_the_tab_stops_training_and_deletes_its_files(server, chromium, irish_pieces, tmp_path):
    import app
    from genre_lstm.training.corpus import _cache_path

    uploads = [steps_to_midi_file(p.steps, tmp_path / f"other{i}.mid") for i, p in enumerate(irish_pieces[20:30])]
    page = chromium.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(server, wait_until="load")
    page.get_by_role("tab", name="Train your own").first.click()
    page.locator("#train-files input[type=file]").set_input_files([str(p) for p in uploads])
    page.locator("#train-name input, #train-name textarea").first.fill("closing-tab")
    page.locator("#train-start").click()
    page.wait_for_selector("#train-report :text('10 files read')", timeout=60_000)
    [job] = [j for j in app.QUEUE.jobs.values() if j.request.name == "closing-tab"]
    assert job.folder.is_dir() and any(_cache_path(p).is_file() for p in uploads)
    page.close()
    deadline = time.time() + 60
    while time.time() < deadline and job.id in app.QUEUE.jobs:
        time.sleep(1)
    assert job.id not in app.QUEUE.jobs, "the job outlived its tab"
    assert not job.folder.exists()
    assert job.process is None or job.process.poll() is not None
    assert not any(_cache_path(p).is_file() for p in uploads)
