"""The audit key and a keyring that does not answer (issue 5): every keyring call is given up
after a timeout, loading then looks in the other places, and creating says why it failed.
The other places the key comes from are tested in test_audit.py."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from console.models.database import Database
from console.services.audit.key import (
    KEY_ENV_VAR,
    AuditKeyMissing,
    NoSecureKeyring,
    create_audit_key,
    load_audit_key,
)
from tests.services.test_secrets_store import SHORT_WAIT, HungKeyring, LeakyKeyring


@pytest.fixture
def hung() -> Iterator[HungKeyring]:
    backend = HungKeyring()
    yield backend
    backend.release.set()  # no keyring thread outlives its test
    backend.wait_until_answered()


def test_a_hung_keyring_is_passed_over_when_loading(database: Database, hung: HungKeyring) -> None:
    with pytest.raises(AuditKeyMissing, match=r"did not answer within 0\.05 seconds") as missing:
        load_audit_key(database, environ={}, keyring_backend=hung, keyring_timeout=SHORT_WAIT)
    assert KEY_ENV_VAR in str(missing.value)

    from_env = secrets.token_bytes(32)
    key = load_audit_key(
        database,
        environ={KEY_ENV_VAR: from_env.hex()},
        keyring_backend=hung,
        keyring_timeout=SHORT_WAIT,
    )
    assert (key.secret, key.source) == (from_env, KEY_ENV_VAR)


def test_a_hung_keyring_refuses_a_new_key_clearly(database: Database, hung: HungKeyring) -> None:
    with pytest.raises(NoSecureKeyring, match=r"did not answer within 0\.05 seconds"):
        create_audit_key(database, keyring_backend=hung, keyring_timeout=SHORT_WAIT)
    hung.release.set()
    hung.wait_until_answered()
    assert hung.entries == {}  # nothing stored behind the caller's back once it answered


def test_a_keyring_error_names_only_its_type(database: Database) -> None:
    with pytest.raises(
        NoSecureKeyring, match=r"could not be stored in the keyring \(PasswordSetError\)"
    ) as refused:
        create_audit_key(database, keyring_backend=LeakyKeyring())
    shown = f"{refused.value} {refused.value.__cause__} {refused.value.__context__}"
    assert "cannot store" not in shown  # the backend's own text quotes the key
