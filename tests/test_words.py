"""The shared wording of numbers, counts and ages (HTML, reprs and the command line)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from djangopackages_sdk._words import age, count, count_resources, number

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def test_numbers_and_counts() -> None:
    assert number(5405) == "5,405"
    assert count(1, "category") == "1 category"
    assert count(3, "category") == "3 categories"
    assert count(2, "day") == "2 days"
    assert count(0, "package") == "0 packages"
    assert count_resources({"packages": 5, "grids": 1, "categories": 1}) == (
        "5 packages, 1 grid, 1 category"
    )


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (NOW, "today"),
        (NOW - timedelta(days=1), "1 day ago"),
        (NOW - timedelta(days=13), "1 week ago"),
        (NOW - timedelta(days=61), "2 months ago"),
        (NOW - timedelta(days=800), "2 years ago"),
        (NOW + timedelta(days=2), "in the future"),
        (datetime(2026, 12, 1, 12), "5 days ago"),  # naive: taken as UTC
        (date(2026, 11, 29), "1 week ago"),
        (None, "unknown"),
    ],
)
def test_age(when: datetime | date | None, words: str) -> None:
    assert age(when, NOW) == words


def test_age_of_an_aware_time_against_a_naive_now() -> None:
    assert age(NOW - timedelta(days=3), datetime(2026, 12, 6, 12)) == "3 days ago"
