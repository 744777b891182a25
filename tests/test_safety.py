"""Safety properties: no pickles, music21's parse cache unused, loopback by default."""

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_module_uses_pickle():
    pattern = re.compile(r"\b(import pickle|from pickle|cPickle|dill|joblib\.load|allow_pickle\s*=\s*True|marshal\.load)")
    offenders = [p.name for p in (ROOT / "genre_lstm").rglob("*.py") if pattern.search(p.read_text())]
    offenders += ["app.py"] if pattern.search((ROOT / "app.py").read_text()) else []
    assert offenders == []
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not [t for t in tracked if t.endswith((".pkl", ".pickle", ".p"))]


def test_parsing_leaves_no_music21_pickle_behind(chorale_path, tmp_path):
    from genre_lstm.music.midi_io import music_file_to_pieces

    before = set(Path(tempfile.gettempdir()).rglob("*.p*"))
    music_file_to_pieces(chorale_path)
    after = set(Path(tempfile.gettempdir()).rglob("*.p*"))
    assert not [p for p in after - before if p.suffix in (".p", ".pkl", ".pgz")]


def test_the_app_listens_on_loopback_only_by_default():
    import psutil
    from conftest import _free_port

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_SERVER_NAME"}
    env["GRADIO_SERVER_PORT"] = str(port)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        listening = {c.laddr.ip for c in psutil.Process(process.pid).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        assert listening == {"127.0.0.1"}
    finally:
        process.terminate()
        process.wait(15)


def test_the_repository_cites_no_file_outside_itself():
    """A clone stands alone: requirements, docs and code never point at ../shared or other outside paths."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    texts = [t for t in tracked if t.endswith((".txt", ".md", ".py", ".toml", ".sh", ".cfg"))]
    offenders = [t for t in texts if "../shared" in (ROOT / t).read_text(encoding="utf-8", errors="replace")
                 and t != "tests/test_safety.py"]
    assert offenders == []
