"""Running the ``portal-console`` command in the test's own process, as a script would."""

from __future__ import annotations

import io
import sys

import pytest

from console.cli import main


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """The exit status, standard output and standard error of ``portal-console ARGV``, with
    ``stdin`` as its standard input (argparse's own refusals included)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err
