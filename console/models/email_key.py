"""The comparison key that decides whether two login e-mails are "the same address".

SPEC §5: trimmed, Unicode-normalised, case-folded whole address, with internationalised
domains in one canonical form. Two accounts whose keys are equal share an e-mail.

The key is computed here, in Python, and stored in an indexed column, so the database only
ever compares plain strings; the same function serves the demo loader, the services and the
search box, and there is no second implementation in SQL to drift from it.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import idna


def email_key(address: str | None) -> str | None:
    """Return the comparison key of ``address``, or ``None`` when there is no address.

    Never raises: legacy data holds addresses that no validator would accept, and those still
    need a key so that two accounts typed with the same junk are recognised as sharing it.
    """
    if address is None:
        return None
    text = unicodedata.normalize("NFC", address.strip())
    if not text:
        return None
    local, at, domain = text.rpartition("@")
    if not at:
        return text.casefold()
    return f"{unicodedata.normalize('NFC', local.casefold())}@{_canonical_domain(domain)}"


@lru_cache(maxsize=4096)  # a clinic's addresses share a few hundred domains; IDNA is slow
def _canonical_domain(domain: str) -> str:
    """The domain as lower-case ASCII (A-labels), so ``bücher.example`` and
    ``xn--bcher-kva.example`` give one key; a domain IDNA refuses is just case-folded."""
    folded = unicodedata.normalize("NFC", domain.casefold().rstrip("."))
    try:
        return idna.encode(folded, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        return folded
