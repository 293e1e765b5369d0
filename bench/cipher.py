"""The key of the benchmark's encrypted databases, and how a child process is given it.

Kept apart (and light: ``os`` only) so that a cold-start child imports nothing more to read it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The key of the benchmark's encrypted copies. NOT a secret, and never a clinic's: the
#: copies hold only generated demo clinics, and a fixed key lets them be cached between runs.
BENCH_KEY = bytes(range(32))
#: How the parent hands a child the key of the database it measures (hex); benchmark only.
KEY_VAR = "PORTAL_BENCH_DATABASE_KEY"


def environment_with_key(environ: Mapping[str, str], key: bytes | None) -> dict[str, str]:
    """``environ`` for a child that opens its database with ``key`` (None: a plain one)."""
    child = {name: value for name, value in environ.items() if name != KEY_VAR}
    return child | ({KEY_VAR: key.hex()} if key is not None else {})


def key_from_environment() -> bytes | None:
    """In a child: the key its parent gave it, if any."""
    value = os.environ.get(KEY_VAR)
    return bytes.fromhex(value) if value else None
