"""Every limited field of a request, at and beyond its bounds, through the command line and the app's
API: both accept the same values and refuse the same values with the same message."""

from __future__ import annotations

import io
from contextlib import redirect_stderr

import pytest

from genre_lstm.cli import main
from genre_lstm.request import FIELDS

SMALL = {"length": 1, "seed_length": 8}  # keeps each accepted request cheap
PARTNERS = {"offset_min": {"offset_max": 4.0}, "offset_max": {"offset_min": 0.01}}


def _cases():
    for field in FIELDS:
        if field.low is None:
            continue
        step = 1 if field.kind is int else 0.5
        off = field.zero_is_default and field.low - step == 0  # 0: "off" or "the genre's"
        for value, accepted in ((field.low, True), (field.high, True), (field.low - step, off),
                                (field.high + step, False)):
            yield pytest.param(field.name, value, accepted, id=f"{field.name}={value}")


def _values(name, value) -> dict:
    return {**SMALL, **PARTNERS.get(name, {}), name: value}


def _cli_message(values: dict, tmp_path) -> str | None:
    """None when the CLI generates; its error message (without the prefix) when it refuses."""
    argv = ["generate", "--genre", "irish-fiddle", "--no-audio", "--out", str(tmp_path / "cli")]
    for name, value in values.items():
        argv += ["--" + name.replace("_", "-"), str(value)]
    err = io.StringIO()
    with redirect_stderr(err):
        code = main(argv)
    if code == 0:
        return None
    assert code == 2, err.getvalue()
    [line] = err.getvalue().strip().splitlines()
    return line.removeprefix("genre-lstm: error: ")


def _api_message(client, values: dict) -> str | None:
    try:
        client.predict(genre="irish-fiddle", **values, api_name="/generate")
    except Exception as error:  # gradio_client raises AppError with our message
        return str(error).strip()
    return None


@pytest.mark.parametrize("name, value, accepted", list(_cases()))
def test_cli_and_api_agree_on_each_bound(client, tmp_path, name, value, accepted):
    values = _values(name, value)
    cli, api = _cli_message(values, tmp_path), _api_message(client, values)
    if accepted:
        assert cli is None and api is None, (cli, api)
    else:
        assert cli and f"{name.replace('_', ' ')} must be" in cli
        assert api == cli
