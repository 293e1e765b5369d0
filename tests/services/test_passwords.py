"""The portal password policy (SPEC §5): every rule on its own, all of them in one message,
and bcrypt hashes that are checked without ever raising."""

from __future__ import annotations

import time
from typing import Any

import bcrypt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from console.services.errors import DomainError, InvalidSetting, WeakPassword
from console.services.passwords import (
    DEFAULT_POLICY,
    MAX_PASSWORD_BYTES,
    PasswordPolicy,
    check_password,
    common_passwords,
    dummy_hash,
    hash_cost,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)

GOOD = "Harbour-Lights-42"
#: Cost 4 (bcrypt's least) keeps checks cheap where the cost itself is not under test.
CHEAP_HASH = bcrypt.hashpw(GOOD.encode(), bcrypt.gensalt(rounds=4)).decode()


def test_a_good_password_has_no_problems() -> None:
    assert password_problems(GOOD, username="jdoe", email="jane.doe@example.org") == []
    check_password(GOOD)


@pytest.mark.parametrize(
    ("password", "fields", "problem"),
    [
        pytest.param("Ab1xyzq", {}, "needs at least 8 characters", id="length"),
        pytest.param("QWZRTPLK7", {}, "needs a lower-case letter", id="lower"),
        pytest.param("qwzrtplk7", {}, "needs an upper-case letter", id="upper"),
        pytest.param("QwzrtplkX", {}, "needs a digit", id="digit"),
        pytest.param(
            "Aa1" + "é" * 35,  # 38 characters, 73 bytes
            {},
            "must be no more than 72 bytes long (letters with accents count as 2 and emoji as 4)",
            id="bytes",
        ),
        pytest.param(
            "xJohnSmith9", {"username": " johnsmith "}, "must not contain the username", id="user"
        ),
        pytest.param(
            "Jane.Doe99x",
            {"email": "jane.doe@example.org"},
            "must not contain the first part of the e-mail address",
            id="local-part",
        ),
        pytest.param(
            "JaneDoe99x",
            {"email": "Jane.Doe+portal@example.org"},
            "must not contain the first part of the e-mail address",
            id="local-part-without-dots-and-tag",
        ),
        pytest.param("Password1", {}, "is on the list of common passwords", id="common"),
        pytest.param("LetMeIn1", {}, "is on the list of common passwords", id="common-any-case"),
        pytest.param(
            "Qwzrt\ud800plk7", {}, "contains a character that cannot be stored", id="surrogate"
        ),
    ],
)
def test_each_rule_on_its_own(password: str, fields: dict[str, Any], problem: str) -> None:
    assert password_problems(password, **fields) == [problem]
    with pytest.raises(WeakPassword) as refused:
        check_password(password, **fields)
    assert refused.value.problems == (problem,)
    assert problem.removeprefix("needs ") in str(refused.value)


def test_exactly_72_bytes_is_allowed() -> None:
    password = "Aa1" + "é" * 34 + "x"  # 3 + 68 + 1 bytes
    assert len(password.encode()) == MAX_PASSWORD_BYTES
    assert password_problems(password) == []


def test_short_usernames_and_local_parts_are_not_looked_for() -> None:
    # "jo" is in half the dictionary; only parts of three characters or more count.
    assert password_problems("Joanna-Lake-7", username="jo", email="jo@example.org") == []


def test_every_unmet_rule_is_listed_in_one_sentence() -> None:
    problems = password_problems("jdoe", username="jdoe", email="jdoe@example.org")
    assert problems == [
        "needs at least 8 characters",
        "needs an upper-case letter",
        "needs a digit",
        "must not contain the username",
        "must not contain the first part of the e-mail address",
    ]
    with pytest.raises(WeakPassword) as refused:
        check_password("jdoe", username="jdoe", email="jdoe@example.org")
    assert str(refused.value) == (
        "The password needs at least 8 characters, an upper-case letter and a digit; "
        "it must not contain the username and must not contain the first part of the e-mail "
        "address."
    )
    assert isinstance(refused.value, ValueError)
    assert isinstance(refused.value, DomainError)


def test_a_message_without_missing_characters_reads_as_one_sentence() -> None:
    with pytest.raises(WeakPassword, match=r"^The password is on the list of common passwords\.$"):
        check_password("Password1")


def test_an_empty_password_lists_every_character_rule() -> None:
    assert password_problems("") == [
        "needs at least 8 characters",
        "needs a lower-case letter",
        "needs an upper-case letter",
        "needs a digit",
    ]


# --- The policy an admin may tighten ------------------------------------------------------------


def test_the_defaults_are_the_migrations_minimum() -> None:
    assert (
        PasswordPolicy(min_length=8, require_lower=True, require_upper=True, require_digit=True)
        == DEFAULT_POLICY
    )
    assert DEFAULT_POLICY.bcrypt_cost == 12


def test_an_admin_may_tighten_the_policy() -> None:
    strict = PasswordPolicy(min_length=12, require_symbol=True, bcrypt_cost=13)
    assert password_problems("Harbour42xyz", strict) == ["needs a symbol such as ! # % or *"]
    assert password_problems("Harbour-42", strict) == ["needs at least 12 characters"]
    assert password_problems("Harbour-42-xyz", strict) == []


@pytest.mark.parametrize(
    ("loosened", "words"),
    [
        ({"min_length": 7}, "minimum length must be between 8 and 64"),
        ({"min_length": 65}, "minimum length must be between 8 and 64"),
        ({"require_lower": False}, "a lower-case letter"),
        ({"require_upper": False}, "an upper-case letter"),
        ({"require_digit": False}, "a digit"),
        ({"bcrypt_cost": 11}, "bcrypt cost must be between 12 and 14"),
        ({"bcrypt_cost": 20}, "bcrypt cost must be between 12 and 14"),
    ],
)
def test_the_policy_never_goes_below_the_defaults(loosened: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidSetting, match=words):
        PasswordPolicy(**loosened)  # type: ignore[arg-type]


def test_the_common_list_is_shipped_whole_and_read_once() -> None:
    listed = common_passwords()
    assert len(listed) == 10_000
    assert {"123456", "password", "qwerty", "password1"} <= listed
    assert not any(word.startswith("#") for word in listed)
    assert common_passwords() is listed


# --- Hashes -------------------------------------------------------------------------------------


def test_hash_and_verify_at_the_policy_cost() -> None:
    stored = hash_password(GOOD)
    assert hash_cost(stored) == 12
    assert verify_password(GOOD, stored)
    assert not verify_password(GOOD.lower(), stored)
    assert not needs_rehash(stored)


def test_hashing_below_cost_12_is_refused() -> None:
    with pytest.raises(ValueError, match=r"between 12 and 14, not 10"):
        hash_password(GOOD, cost=10)


def test_hashing_more_than_72_bytes_is_refused_not_cut() -> None:
    with pytest.raises(WeakPassword, match="no more than 72 bytes"):
        hash_password("Aa1" + "x" * 70)


def test_a_password_over_72_bytes_simply_does_not_match() -> None:
    # bcrypt itself would raise; and a hash of the first 72 bytes must not let it in either.
    prefix = "Aa1" + "x" * 69
    stored = bcrypt.hashpw(prefix.encode(), bcrypt.gensalt(rounds=4)).decode()
    assert verify_password(prefix, stored)
    assert verify_password(prefix + "y", stored) is False


@pytest.mark.parametrize(
    "damaged",
    [
        None,
        "",
        "not a hash",
        CHEAP_HASH[:-1],
        CHEAP_HASH + "x",
        CHEAP_HASH.replace("$2b$", "$2x$"),
        CHEAP_HASH.replace("$2b$04$", "$2b$31$"),  # would take days if it were checked
        CHEAP_HASH.replace("$2b$04$", "$2b$03$"),
        "$2b$04$" + "!" * 53,
    ],
)
def test_a_damaged_hash_simply_does_not_match(damaged: str | None) -> None:
    started = time.perf_counter()
    assert verify_password(GOOD, damaged) is False
    assert time.perf_counter() - started < 1


def test_other_bcrypt_prefixes_still_verify() -> None:
    assert verify_password(GOOD, CHEAP_HASH.replace("$2b$", "$2y$"))
    assert verify_password(GOOD, CHEAP_HASH.replace("$2b$", "$2a$"))


@pytest.mark.parametrize(
    ("stored", "rehash"),
    [
        (CHEAP_HASH, True),
        (CHEAP_HASH.replace("$2b$04$", "$2b$10$"), True),
        (CHEAP_HASH.replace("$2b$04$", "$2b$12$"), False),
        (CHEAP_HASH.replace("$2b$04$", "$2b$13$"), False),
        (None, True),
        ("md5:abc", True),
    ],
)
def test_needs_rehash_when_the_cost_is_below_the_policy(stored: str | None, rehash: bool) -> None:
    assert needs_rehash(stored, 12) is rehash


def test_the_dummy_hash_is_made_once_at_the_policy_cost() -> None:
    assert dummy_hash() is dummy_hash()
    assert hash_cost(dummy_hash()) == 12


# --- Arbitrary input ----------------------------------------------------------------------------

any_text = st.text(st.characters(codec=None), max_size=120)


@settings(max_examples=300, deadline=None)
@given(any_text, st.none() | any_text, st.none() | any_text)
@example("", None, None)
@example("\x00" * 80, "\x00", "\x00@\x00")
@example("😀" * 19, "😀", "😀@example.org")
def test_the_rules_only_ever_list_problems(
    password: str, username: str | None, email: str | None
) -> None:
    problems = password_problems(password, username=username, email=email)
    assert all(isinstance(problem, str) and problem for problem in problems)
    try:
        check_password(password, username=username, email=email)
    except WeakPassword as refused:
        assert list(refused.problems) == problems
        assert str(refused).startswith("The password ") and str(refused).endswith(".")
    else:
        assert problems == []


@settings(max_examples=100, deadline=None)
@given(any_text, st.none() | any_text | st.just(CHEAP_HASH))
def test_verify_never_raises(password: str, stored: str | None) -> None:
    assert verify_password(password, stored) is (password == GOOD and stored == CHEAP_HASH)
