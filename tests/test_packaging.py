"""What a user gets from `pip install .`: a wheel that carries the Compare tab's data and every shipped
genre's checkpoint, so the installed package generates from any folder."""

import subprocess
import sys
import zipfile
from pathlib import Path

from genre_lstm.store.genres import GENRES
from genre_lstm.store.layout import REQUIRED_FILES, SEEDS_FILE

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_the_compare_data_and_every_shipped_checkpoint(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("genre_lstm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "genre_lstm/app/data/compare.json" in names
    for genre in GENRES:
        for file in (*REQUIRED_FILES, SEEDS_FILE):
            assert f"genre_lstm/checkpoints/{genre}/{file}" in names
    assert not [n for n in names if ".training" in n or n.endswith((".pkl", ".pickle", ".wav"))]
