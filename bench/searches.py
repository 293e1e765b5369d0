"""The fixed list of 50 searches, taken from the benchmark database itself.

Accounts are picked with a fixed seed, so the same clinic always gives the same list: what a
front desk types — surnames, "first last", the start of an e-mail address or a piece from
its middle, whole MRNs read off a letter and the digits someone remembers of one.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

SEARCH_SEED = 2026
SEARCH_COUNT = 50


class _Account(NamedTuple):
    first: str
    last: str
    email: str | None
    mrn: str


def _fragment(rng: random.Random, text: str, low: int, high: int) -> str:
    size = min(len(text), rng.randint(low, high))
    start = rng.randrange(len(text) - size + 1)
    return text[start : start + size]


def _local_prefix(rng: random.Random, account: _Account) -> str | None:
    if not account.email:
        return None
    local = account.email.split("@")[0]
    return local[: rng.randint(5, 8)] if len(local) >= 5 else None


def _across_at(rng: random.Random, account: _Account) -> str | None:
    if not account.email:
        return None
    local, domain = account.email.split("@", 1)
    tail = local[-rng.randint(3, 5) :].lstrip("._")
    return f"{tail}@{domain[: rng.randint(3, 6)]}" if tail else None


def _inside_local(rng: random.Random, account: _Account) -> str | None:
    if not account.email:
        return None
    local = account.email.split("@")[0]
    return _fragment(rng, local, 5, 7) if len(local) >= 7 else None


#: (kind, how many, how to make one from an account); 50 in all.
_KINDS: list[tuple[str, int, Callable[[random.Random, _Account], str | None]]] = [
    ("surname", 10, lambda rng, a: a.last),
    ("first last", 10, lambda rng, a: f"{a.first} {a.last}"),
    ("e-mail start", 8, _local_prefix),
    ("e-mail across @", 4, _across_at),
    ("e-mail middle", 3, _inside_local),
    ("MRN", 8, lambda rng, a: a.mrn),
    ("part of an MRN", 7, lambda rng, a: _fragment(rng, a.mrn, 4, 5)),
]


def pick_searches(path: Path, seed: int = SEARCH_SEED) -> list[dict[str, str]]:
    """The 50 searches (each ``{"kind": ..., "text": ...}``) for the clinic at ``path``."""
    rng = random.Random(seed)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        (highest,) = connection.execute("SELECT max(id) FROM portal_accounts").fetchone()

        def account() -> _Account | None:
            row = connection.execute(
                "SELECT p.first_name, p.last_name, a.login_email, p.mrn "
                "FROM portal_accounts AS a JOIN patients AS p ON p.id = a.patient_id "
                "WHERE a.id = ?",
                (rng.randint(1, highest),),
            ).fetchone()
            return _Account(*row) if row else None

        searches: list[dict[str, str]] = []
        seen: set[str] = set()
        for kind, wanted, make in _KINDS:
            made = 0
            while made < wanted:
                picked = account()
                text = make(rng, picked) if picked else None
                if not text or len(text.strip()) < 2 or text.casefold() in seen:
                    continue
                seen.add(text.casefold())
                searches.append({"kind": kind, "text": text})
                made += 1
    assert len(searches) == SEARCH_COUNT
    return searches
