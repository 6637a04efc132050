"""The SDK's one datetime parser, shared by every route from JSON to models."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

__all__ = ["ZONES", "parse_datetime"]

_fromisoformat: Final = datetime.fromisoformat
_datetime: Final[Any] = datetime  # called with pickle's (state, tzinfo) signature
ZONES: dict[str, tzinfo] = {}
"""One shared timezone per offset seen, by its text (``"-04:00"``)."""


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 datetime; offsets kept, naive values left naive.

    3.11's ``fromisoformat`` reads offsets, ``Z`` and naive values alike and never
    invents a timezone. Two details follow RFC 3339 and msgspec (the ``fast``
    extra's decoder), so that every route reads every value alike: a lowercase
    ``z`` is UTC, and in the extended form (``2024-01-02T03:04:05.1234567``) a
    fraction of more than six digits is rounded to the microsecond (half up), not
    truncated. ``fromisoformat`` builds a new timezone
    object for every value (72 of a datetime's 128 bytes); a catalogue holds some
    20,000 datetimes with two offsets, so one shared timezone per offset is kept.
    """
    try:
        parsed = _fromisoformat(text)
    except ValueError:
        if text[-1:] != "z":
            raise
        return parse_datetime(text[:-1] + "Z")
    if len(text) > 26 and "0" <= text[26] <= "9":  # a seventh digit of the fraction
        parsed = _round_fraction(text, parsed)
    shared = ZONES.get(text[-6:])
    if shared is None or parsed.tzinfo is None:
        return _register_zone(text, parsed)
    # datetime(state, tzinfo) is the pickle constructor: a copy with the shared
    # zone at a third of the cost of .replace(tzinfo=...).
    rebuilt: datetime = _datetime(parsed.__reduce__()[1][0], shared)
    return rebuilt


_LONG_FRACTION: Final = re.compile(r"\.[0-9]{6}([0-9])")


def _round_fraction(text: str, parsed: datetime) -> datetime:
    """``parsed`` (truncated to the microsecond) rounded half up on the seventh digit."""
    match = _LONG_FRACTION.search(text)
    if match is None or match.group(1) < "5":
        return parsed
    try:
        return parsed + _MICROSECOND
    except OverflowError:
        raise ValueError(f"datetime out of range: {text[:40]!r}") from None


_MICROSECOND: Final = timedelta(microseconds=1)


def _register_zone(text: str, parsed: datetime) -> datetime:
    zone = parsed.tzinfo
    suffix = text[-6:]
    if (
        zone is not None
        and zone is not UTC
        and len(suffix) == 6
        and suffix[0] in "+-"
        and suffix[3] == ":"
        and len(ZONES) < 64
    ):
        ZONES.setdefault(suffix, zone)
    return parsed
