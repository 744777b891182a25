"""Every setting read from the environment is defined in one module and documented in the README."""

import re
from pathlib import Path

from genre_lstm.environment import VARIABLES

ROOT = Path(__file__).resolve().parent.parent


def test_every_variable_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for variable in VARIABLES:
        assert f"| `{variable.name}` |" in readme, variable.name


def test_no_module_reads_our_variables_but_the_environment_module():
    readers = [path.relative_to(ROOT).as_posix() for path in [*(ROOT / "genre_lstm").rglob("*.py"), ROOT / "app.py"]
               if path.name != "environment.py" and re.search(r"environ(?:\.get)?\(?\[?[\"']GENRE_LSTM_",
                                                             path.read_text(encoding="utf-8"))]
    assert readers == []
    spelled = [path.name for path in (ROOT / "genre_lstm").rglob("*.py")
               if path.name != "environment.py" and '"GENRE_LSTM_' in path.read_text(encoding="utf-8")]
    assert spelled == []
