"""The comparison key that decides whether two login e-mails are the same address."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from console.models.email_key import email_key

#: "example.org" typed in full-width forms (as East Asian keyboards may produce).
FULLWIDTH_EXAMPLE_ORG = "".join(chr(ord(c) + 0xFEE0) for c in "example.org")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("Jane.Doe@Example.ORG", "jane.doe@example.org", id="case"),
        pytest.param("  jane@example.org\t\n", "jane@example.org", id="surrounding-space"),
        pytest.param("x@bücher.example", "x@XN--BCHER-KVA.example", id="idna-a-label"),
        pytest.param("x@BÜCHER.example", "x@bücher.example", id="idna-case"),
        pytest.param("x@" + FULLWIDTH_EXAMPLE_ORG, "x@example.org", id="fullwidth-domain"),
        pytest.param("x@example.org.", "x@example.org", id="trailing-dot"),
        pytest.param("e\u0301mile@example.org", "\u00e9mile@example.org", id="nfc-local"),
        pytest.param("x@bu\u0308cher.example", "x@bücher.example", id="nfc-domain"),
        pytest.param("STRASSE@example.org", "straße@example.org", id="casefold-not-lower"),
        pytest.param("NO-AT-SIGN", "no-at-sign", id="no-at-sign"),
    ],
)
def test_same_address_same_key(first: str, second: str) -> None:
    assert email_key(first) == email_key(second)
    assert email_key(first) is not None


def test_the_key_is_lower_case_ascii_for_the_domain() -> None:
    assert email_key(" Jane@BÜCHER.Example ") == "jane@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("jane@example.org", "jane@example.com"),
        ("jane.doe@example.org", "janedoe@example.org"),  # Gmail-style variants only warn
        ("jane+portal@example.org", "jane@example.org"),
        ("x@bücher.example", "x@bucher.example"),
    ],
)
def test_different_addresses_different_keys(first: str, second: str) -> None:
    assert email_key(first) != email_key(second)


@pytest.mark.parametrize("nothing", [None, "", "   ", "\t\n"])
def test_no_address_no_key(nothing: str | None) -> None:
    assert email_key(nothing) is None


@pytest.mark.parametrize(
    "junk", ["@", "a@", "@b", "a@b@c", "a@-x-.example", "a@exa mple.org", "a@..", "\ud800@x"]
)
def test_junk_still_gets_a_key(junk: str) -> None:
    key = email_key(junk)
    assert key is not None
    assert email_key(junk.upper()) == key or not junk.isascii()


# --- Properties ----------------------------------------------------------------------------

letters = st.characters(categories=("Ll", "Lu", "Lo", "Nd"), exclude_characters="İı")
ascii_letters = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def addresses(chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Addresses that look valid: a local part, and a domain of one or more labels."""
    local = st.text(st.one_of(chars, st.sampled_from("._+-")), min_size=1, max_size=20)
    label = st.text(chars, min_size=1, max_size=12)
    domain = st.lists(label, min_size=1, max_size=3).map(".".join)
    tld = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2, max_size=6)
    return st.builds(lambda lp, d, t: f"{lp}@{d}.{t}", local, domain, tld)


spaces = st.text(st.sampled_from(" \t\n\r\u00a0\u2003"), max_size=3)


@given(addresses(letters))
@example("x@bücher.example")
@example("ΐ@example.org")
@example("ǅ@example.org")
def test_key_is_idempotent(address: str) -> None:
    key = email_key(address)
    assert key is not None
    assert email_key(key) == key


@given(addresses(ascii_letters), st.randoms(use_true_random=False), spaces, spaces)
def test_key_ignores_case_and_surrounding_space(
    address: str, random: Random, before: str, after: str
) -> None:
    variant = "".join(c.upper() if random.random() < 0.5 else c.lower() for c in address)
    assert email_key(before + variant + after) == email_key(address)


@given(addresses(letters), spaces, spaces)
@example("STRASSE@Example.org", "", "")
def test_key_ignores_unicode_case_and_surrounding_space(
    address: str, before: str, after: str
) -> None:
    assert email_key(before + address.casefold() + after) == email_key(address)
    assert email_key(address.upper().casefold()) == email_key(address.upper())


@given(st.text(st.characters(codec=None)))
@example("\ud800@\udfff")
@example("a@" + "x" * 64 + ".example")
@example("a@" + ".".join(["label"] * 60))
def test_key_never_raises(text: str) -> None:
    key = email_key(text)
    assert key is None or (isinstance(key, str) and key == key.strip() and key)
