"""A person's age on a day, and the age from which the clinic treats them as an adult."""

from __future__ import annotations

import datetime as dt

#: A linked chart of a person this old or older is flagged for review (SPEC §5); the
#: shared-e-mail worklist never proposes linking them as a child.
ADULT_AGE = 18


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years of a person born on ``birth_date``, on ``day``."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


__all__ = ["ADULT_AGE", "age_on"]
