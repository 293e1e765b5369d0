"""A test that leaves a worker pool open or a pool thread busy fails (as in napari)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from console.adapters.worker import open_runners


@pytest.fixture(autouse=True)
def no_worker_left_running(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a worker pool open or a pool thread busy."""
    yield
    leftover = open_runners()
    for runner in leftover:
        runner.close()
    assert not leftover, f"{len(leftover)} job runner(s) left open"
    assert QThreadPool.globalInstance().activeThreadCount() == 0
