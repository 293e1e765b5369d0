"""Checks of single setting values (issue 5): each looks at one value and returns what is
wrong with it, as a phrase that follows the setting's key in a message ("must be from 1 to
120 minutes"), or None when the value can be used.

Which check, with which limits, applies to which setting is decided with the settings
themselves, in ``console.services.settings.values``.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from console.services.email_rules import validate_email
from console.services.errors import InvalidEmail

_MAX_URL = 2000
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PHONE = re.compile(r"[0-9 ()+.\-]+?(?:\s*(?:ext\.?|x)\s*[0-9]{1,6})?", re.IGNORECASE)
_UNITS = {"": "", "chars": " characters", "minutes": " minutes", "hours": " hours", "days": " days"}


def type_problem(value: object, default: object, *, path: bool = False) -> str | None:
    """What is wrong with the type of ``value``, a setting whose default is ``default``: it
    must be of the same kind (a choice of the same enum, true or false, a whole number,
    text). With ``path`` the setting is a file's path or None instead."""
    if isinstance(default, StrEnum) and not isinstance(value, type(default)):
        return "must be one of " + ", ".join(f'"{s.value}"' for s in type(default))
    if path and not (value is None or isinstance(value, Path)):
        return 'must be the path of a file in quotes, or "" for none'
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "must be a whole number"
    if isinstance(default, str) and not isinstance(value, str):
        return "must be text in quotes"
    return None


def range_problem(value: int, least: int, most: int, unit: str) -> str | None:
    """A whole number outside ``least`` to ``most``; ``unit`` is "", "chars", "minutes",
    "hours" or "days", for the message."""
    if least <= value <= most:
        return None
    return f"must be from {least} to {most}{_UNITS[unit]}"


def text_problem(value: str, longest: int, *, required: bool = False) -> str | None:
    """Text longer than ``longest`` characters, on more than one line or with control
    characters; empty (or only spaces) when ``required``."""
    if required and not value.strip():
        return "must not be empty"
    if len(value) > longest:
        return f"must be at most {longest} characters"
    if any(not c.isprintable() for c in value):
        return "must be on one line, without control characters"
    return None


def url_problem(url: str) -> str | None:
    """A web address the portal's links cannot start with: anything but https:// (http://
    only for localhost), with a user name, a password, a query or a fragment. Empty is
    fine (not set yet)."""
    if not url:
        return None
    if len(url) > _MAX_URL or any(c.isspace() or not c.isprintable() for c in url):
        return f"must be one web address of at most {_MAX_URL} characters, without spaces"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return "must be a web address such as https://portal.example.org"
    if parts.scheme.lower() not in ("https", "http") or not host:
        return "must be a web address such as https://portal.example.org"
    if parts.scheme.lower() == "http" and host not in _LOCAL_HOSTS:
        return "must start with https:// (http:// only for localhost, when testing)"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    if parts.query or parts.fragment:
        return "must not contain ? or # (the console adds its own link after it)"
    return None


def phone_problem(phone: str) -> str | None:
    """Not a phone number: 7 to 15 digits with spaces, dashes, brackets or a leading +, and
    an optional extension. Empty is fine."""
    if not phone:
        return None
    number = re.split(r"(?i)\s*(?:ext\.?|x)", phone, maxsplit=1)[0]
    digits = sum(c.isdigit() for c in number)
    if not _PHONE.fullmatch(phone) or not 7 <= digits <= 15:
        return (
            "must be a phone number: 7 to 15 digits with spaces, dashes, brackets or a "
            'leading +, and an optional extension ("ext. 204")'
        )
    return None


def host_problem(host: str) -> str | None:
    """Neither a host name nor an IP address (in brackets or not). Empty is fine."""
    if not host:
        return None
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return "must be the mail server's name (such as smtp.example.org) or IP address"
    return None


def sender_problem(sender: str) -> str | None:
    """Not an e-mail address the clinic's e-mails can be sent from. Empty is fine."""
    if not sender:
        return None
    try:
        validate_email(sender)
    except InvalidEmail as error:
        return f"must be an e-mail address ({error.message.rstrip('.')})"
    return None


def key_file_problem(path: Path | None) -> str | None:
    """A key file's path that is not a full path (it would depend on the folder the console
    was started in). None is fine."""
    if path is not None and not path.is_absolute():
        return "must be a full path (starting at the root of a drive or at /)"
    return None


__all__ = [
    "host_problem",
    "key_file_problem",
    "phone_problem",
    "range_problem",
    "sender_problem",
    "text_problem",
    "type_problem",
    "url_problem",
]
