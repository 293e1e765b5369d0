"""The portal password policy (SPEC §5) and the bcrypt hashes the passwords are kept as.

A new password is checked against every rule at once, so the patient or the member of staff
sees everything that is wrong in one message instead of one refusal after another. Checking a
password at login never raises: anything that cannot match (too long for bcrypt, a damaged
stored hash) is simply not a match.

Passwords are hashed as their exact UTF-8 bytes, without Unicode normalisation, as the legacy
system did: normalising now would lock out every legacy password typed with decomposed
accents.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from importlib.resources import files

import bcrypt

from console.services.errors import InvalidSetting, WeakPassword

#: bcrypt reads at most this many bytes of a password; longer input is refused, not cut.
MAX_PASSWORD_BYTES = 72
#: The migration's minimum length (SPEC §1), and the most an admin may ask for: a longer
#: minimum would leave little room under the 72-byte limit.
MIN_LENGTH = 8
MAX_MIN_LENGTH = 64
#: The lowest bcrypt cost the new login system accepts for a stored hash.
MIN_COST = 12
#: Above this an admin would make every login take seconds on a clinic workstation.
MAX_COST = 14
#: Stored hashes outside these costs are treated as damaged rather than checked: a hash
#: claiming cost 31 would keep the login busy for days.
_VERIFIABLE_COSTS = range(4, 16)
_BCRYPT_HASH = re.compile(r"\$2[aby]\$(?P<cost>\d\d)\$[./A-Za-z0-9]{53}")
#: Usernames and local parts shorter than this are not looked for inside a password (a
#: two-letter username is in half the dictionary).
_MIN_PERSONAL_PART = 3
_COMMON_PASSWORDS_FILE = "common-passwords.txt"


@dataclass(frozen=True)
class PasswordPolicy:
    """What a new portal password must meet. The defaults are the migration's minimum
    (SPEC §1); an admin may tighten them (longer, a symbol, a higher bcrypt cost) but never
    loosen them, which ``__post_init__`` enforces."""

    min_length: int = MIN_LENGTH
    require_lower: bool = True
    require_upper: bool = True
    require_digit: bool = True
    require_symbol: bool = False
    bcrypt_cost: int = MIN_COST

    def __post_init__(self) -> None:
        problems = []
        if not MIN_LENGTH <= self.min_length <= MAX_MIN_LENGTH:
            problems.append(
                f"the minimum length must be between {MIN_LENGTH} and {MAX_MIN_LENGTH} characters"
            )
        for rule, words in (
            ("require_lower", "a lower-case letter"),
            ("require_upper", "an upper-case letter"),
            ("require_digit", "a digit"),
        ):
            if not getattr(self, rule):
                problems.append(f"passwords must always need {words}")
        if not MIN_COST <= self.bcrypt_cost <= MAX_COST:
            problems.append(f"the bcrypt cost must be between {MIN_COST} and {MAX_COST}")
        if problems:
            raise InvalidSetting("Password policy: " + "; ".join(problems) + ".")


DEFAULT_POLICY = PasswordPolicy()


def password_problems(
    password: str,
    policy: PasswordPolicy = DEFAULT_POLICY,
    *,
    username: str | None = None,
    email: str | None = None,
) -> list[str]:
    """Every rule of ``policy`` that ``password`` breaks, in the clinic's words, each a
    phrase that follows "The password …" (empty when the password is acceptable).

    ``username`` and ``email`` are the account's, so that neither the username nor the
    e-mail's local part can be the password or part of it.
    """
    problems = []
    if len(password) < policy.min_length:
        problems.append(f"needs at least {policy.min_length} characters")
    if policy.require_lower and not any(c.islower() for c in password):
        problems.append("needs a lower-case letter")
    if policy.require_upper and not any(c.isupper() for c in password):
        problems.append("needs an upper-case letter")
    if policy.require_digit and not any(c.isdecimal() for c in password):
        problems.append("needs a digit")
    if policy.require_symbol and all(c.isalnum() or c.isspace() for c in password):
        problems.append("needs a symbol such as ! # % or *")
    too_long = _byte_problem(password)
    if too_long:
        problems.append(too_long)
    folded = password.casefold()
    if _contains_any(folded, _username_parts(username)):
        problems.append("must not contain the username")
    if _contains_any(folded, _local_part_forms(email)):
        problems.append("must not contain the first part of the e-mail address")
    if folded in common_passwords():
        problems.append("is on the list of common passwords")
    return problems


def check_staff_password(password: str, *, username: str, min_length: int) -> None:
    """Refuse a console user's new password that is shorter than ``min_length``, longer than
    bcrypt takes, contains the username or is a common password, listing every problem in
    one ``WeakPassword`` (issue 5's staff rules: length over character classes)."""
    problems = []
    if len(password) < min_length:
        problems.append(f"needs at least {min_length} characters")
    too_long = _byte_problem(password)
    if too_long:
        problems.append(too_long)
    folded = password.casefold()
    if _contains_any(folded, _username_parts(username)):
        problems.append("must not contain the username")
    if folded in common_passwords():
        problems.append("is on the list of common passwords")
    if problems:
        raise WeakPassword(describe_problems(problems), tuple(problems))


def check_password(
    password: str,
    policy: PasswordPolicy = DEFAULT_POLICY,
    *,
    username: str | None = None,
    email: str | None = None,
) -> None:
    """Refuse a new password that breaks any rule, with a ``WeakPassword`` whose one-sentence
    message lists every problem."""
    problems = password_problems(password, policy, username=username, email=email)
    if problems:
        raise WeakPassword(describe_problems(problems), tuple(problems))


def describe_problems(problems: list[str]) -> str:
    """One sentence for a list of problems from ``password_problems``:
    "The password needs at least 8 characters and a digit; it is on the list of common
    passwords." """
    needs = [p.removeprefix("needs ") for p in problems if p.startswith("needs ")]
    others = [p for p in problems if not p.startswith("needs ")]
    clauses = []
    if needs:
        clauses.append("needs " + _and(needs))
    if others:
        clauses.append(("it " if needs else "") + _and(others))
    return "The password " + "; ".join(clauses) + "."


def hash_password(password: str, cost: int = MIN_COST) -> str:
    """The bcrypt hash to store for ``password`` (which should have passed
    ``check_password``). Refuses a cost below the policy's minimum, and a password bcrypt
    would silently cut short."""
    if not MIN_COST <= cost <= MAX_COST:
        raise ValueError(f"bcrypt cost must be between {MIN_COST} and {MAX_COST}, not {cost}")
    problem = _byte_problem(password)
    if problem:
        raise WeakPassword(describe_problems([problem]), (problem,))
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=cost)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches the stored hash. Never raises: a password bcrypt cannot
    take, a missing or damaged hash, or one with an absurd cost is simply ``False`` (and then
    costs no bcrypt work: callers that must hide which case it was, like the portal login,
    spend a check against ``dummy_hash()`` themselves)."""
    encoded = _utf8(password)
    cost = hash_cost(password_hash)
    if encoded is None or len(encoded) > MAX_PASSWORD_BYTES or cost is None:
        return False
    assert password_hash is not None
    if cost not in _VERIFIABLE_COSTS:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
    except ValueError:  # a hash that looks right but bcrypt still refuses
        return False


def is_checkable(password: str, password_hash: str | None) -> bool:
    """Whether ``verify_password`` would actually run bcrypt for this pair (so a caller
    that must take the same time either way knows when to spend a dummy check instead)."""
    encoded = _utf8(password)
    cost = hash_cost(password_hash)
    return (
        encoded is not None
        and len(encoded) <= MAX_PASSWORD_BYTES
        and cost is not None
        and cost in _VERIFIABLE_COSTS
    )


def hash_cost(password_hash: str | None) -> int | None:
    """The cost of a bcrypt hash, or ``None`` when it is not one."""
    if password_hash is None:
        return None
    match = _BCRYPT_HASH.fullmatch(password_hash)
    return int(match["cost"]) if match else None


def needs_rehash(password_hash: str | None, cost: int = MIN_COST) -> bool:
    """Whether a hash that just verified should be replaced: its cost is below ``cost`` (or
    it is not a bcrypt hash at all)."""
    stored = hash_cost(password_hash)
    return stored is None or stored < cost


@functools.cache
def dummy_hash(cost: int = MIN_COST) -> str:
    """A hash of a random password at ``cost``, made once on first use: an unknown login is
    checked against it so that it takes as long as a known one."""
    never_typed = secrets.token_urlsafe(32).encode("ascii")
    return bcrypt.hashpw(never_typed, bcrypt.gensalt(rounds=cost)).decode("ascii")


def spend_a_check(cost: int = MIN_COST) -> None:
    """Do the bcrypt work of one password check whose answer is already known to be no."""
    bcrypt.checkpw(b"not the password", dummy_hash(cost).encode("ascii"))


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded, read on first use."""
    text = (files("console.resources") / _COMMON_PASSWORDS_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def _byte_problem(password: str) -> str | None:
    """What stops bcrypt from taking the password whole, if anything."""
    encoded = _utf8(password)
    if encoded is None:
        return "contains a character that cannot be stored"
    if len(encoded) > MAX_PASSWORD_BYTES:
        return (
            f"must be no more than {MAX_PASSWORD_BYTES} bytes long (letters with accents "
            "count as 2 and emoji as 4)"
        )
    return None


def _utf8(password: str) -> bytes | None:
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no keyboard produces one
        return None


def _contains_any(folded_password: str, parts: set[str]) -> bool:
    return any(part in folded_password for part in parts)


def _username_parts(username: str | None) -> set[str]:
    folded = (username or "").strip().casefold()
    return {folded} if len(folded) >= _MIN_PERSONAL_PART else set()


def _local_part_forms(email: str | None) -> set[str]:
    """The e-mail's local part as typed, without its ``+tag``, and without separators
    (``jane.doe`` also forbids ``JaneDoe1``)."""
    local = (email or "").strip().rpartition("@")[0].casefold()
    untagged = local.partition("+")[0]
    forms = {local, untagged, re.sub(r"[._-]", "", untagged)}
    return {form for form in forms if len(form) >= _MIN_PERSONAL_PART}


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


__all__ = [
    "DEFAULT_POLICY",
    "MAX_COST",
    "MAX_PASSWORD_BYTES",
    "MIN_COST",
    "PasswordPolicy",
    "check_password",
    "check_staff_password",
    "common_passwords",
    "describe_problems",
    "dummy_hash",
    "hash_cost",
    "hash_password",
    "is_checkable",
    "needs_rehash",
    "password_problems",
    "spend_a_check",
    "verify_password",
]
