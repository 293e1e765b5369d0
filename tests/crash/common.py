"""What the crash tests' parent and their child processes (``tests.crash.driver``) agree
on: the audit key, the staff password, where the clock starts, the e-mails' branding. No
pytest here: the child imports this module and nothing of the test suite's fixtures."""

from __future__ import annotations

import datetime as dt

from console.services.audit.key import AuditKey
from console.services.mail.templates import Branding

#: The clinic's audit key in these tests (a test value, not a secret): the child finds it
#: where a scheduled job would, in PORTAL_CONSOLE_AUDIT_KEY.
AUDIT_KEY_HEX = bytes(range(32, 64)).hex()
AUDIT_KEY = AuditKey(secret=bytes.fromhex(AUDIT_KEY_HEX), source="PORTAL_CONSOLE_AUDIT_KEY")
#: Every staff user's password in these tests; the child signs in with it as the command
#: line does (PORTAL_CONSOLE_STAFF_PASSWORD).
STAFF_PASSWORD = "Crash-Test-Desk-2026"
FRONT_DESK = "crash_front_desk"
MANAGER = "crash_manager"
#: Where every clock in these tests starts: children are given their time on the command
#: line, so that the parent knows which claims have lapsed.
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
BRANDING = Branding(
    clinic_name="Riverside Family Clinic",
    portal_name="MyHealth",
    portal_base_url="https://portal.riverside.example",
    clinic_phone="555-0100",
    sender="portal@riverside.example",
)

#: What a child writes on its standard output, one line each, besides its progress lines
#: (and nothing else: no patient data, no token, no PIN): ready to work, the mail server
#: accepted the message it is about to be killed after, finished.
READY = "ready"
ACCEPTED = "accepted"
FINISHED = "finished"
