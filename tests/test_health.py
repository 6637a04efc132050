"""Health signals: weekly commits with dates, staleness, PyPI names and site URLs."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from djangopackages_sdk import Grid, Link, Package
from djangopackages_sdk._health import normalize_name, pypi_name, site_root_of, week_monday
from djangopackages_sdk.testing import sample_grids, sample_packages

EASTERN = timezone(timedelta(hours=-5))


def _otp(**changes: Any) -> Package:
    otp = next(p for p in sample_packages() if p.slug == "django-otp")
    return attrs.evolve(otp, **changes)


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2026, 2, 9), date(2026, 2, 9)),  # a Monday is its own week's start
        (date(2026, 2, 15), date(2026, 2, 9)),  # a Sunday belongs to the week before
        (date(2026, 2, 16), date(2026, 2, 16)),
        (date(2024, 3, 1), date(2024, 2, 26)),  # across a leap day
    ],
)
def test_week_monday_follows_the_servers_week_index(day: date, monday: date) -> None:
    assert week_monday(day) == monday
    assert monday.weekday() == 0
    assert (day.toordinal() - 1) // 7 == (monday.toordinal() - 1) // 7


def test_commits_by_week_dates_each_count_by_its_monday() -> None:
    counts = tuple(range(52))
    otp = _otp(commits_over_52=counts, last_fetched=datetime(2026, 2, 15, 21, 7, tzinfo=EASTERN))
    weeks = otp.commits_by_week()
    assert len(weeks) == 52
    assert weeks[-1] == (date(2026, 2, 9), 51)
    assert weeks[0] == (date(2026, 2, 9) - timedelta(weeks=51), 0)
    assert [count for _, count in weeks] == list(counts)
    assert all(b - a == timedelta(weeks=1) for (a, _), (b, _) in itertools.pairwise(weeks))


def test_the_week_is_that_of_the_fetch_time_as_sent_not_in_utc() -> None:
    # Sunday 21:07 at -05:00 is already Monday in UTC; the server counts its own date.
    fetched = datetime(2026, 2, 15, 21, 7, tzinfo=EASTERN)
    assert _otp(last_fetched=fetched).commits_by_week()[-1][0] == date(2026, 2, 9)
    in_utc = fetched.astimezone(UTC)
    assert _otp(last_fetched=in_utc).commits_by_week()[-1][0] == date(2026, 2, 16)


def test_commits_by_week_is_empty_without_counts_or_fetch_time() -> None:
    assert _otp(commits_over_52=()).commits_by_week() == ()
    assert _otp(last_fetched=None).commits_by_week() == ()


def test_a_short_vector_is_dated_from_its_end() -> None:
    fetched = datetime(2026, 2, 10, tzinfo=UTC)
    assert _otp(commits_over_52=(3, 4), last_fetched=fetched).commits_by_week() == (
        (date(2026, 2, 2), 3),
        (date(2026, 2, 9), 4),
    )


def test_recent_commits() -> None:
    otp = _otp(commits_over_52=(1,) * 40 + (2,) * 12)
    assert otp.commits_last_12_weeks == 24 == otp.recent_commits()
    assert otp.commits_last_52_weeks == 64 == otp.recent_commits(52)
    assert otp.recent_commits(1) == 2
    assert _otp(commits_over_52=()).commits_last_52_weeks == 0


@pytest.mark.parametrize(("weeks", "error"), [(0, ValueError), (53, ValueError), (True, TypeError)])
def test_recent_commits_rejects_bad_weeks(weeks: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="weeks"):
        _otp().recent_commits(weeks)  # type: ignore[arg-type]


def test_is_stale_is_the_sites_no_development_rule() -> None:
    last = datetime(2025, 1, 1, 12, tzinfo=EASTERN)
    otp = _otp(last_updated=last)
    assert otp.is_stale(now=last + timedelta(days=365)) is False
    assert otp.is_stale(now=last + timedelta(days=365, seconds=1)) is True
    assert otp.is_stale(now=last + timedelta(days=10), days=9) is True
    assert otp.is_stale(now=datetime(2025, 6, 1, tzinfo=UTC)) is False
    assert otp.is_stale() is True  # today is long after 2026-01-01


def test_unknown_last_commit_is_neither_stale_nor_fresh() -> None:
    assert _otp(last_updated=None).is_stale() is None


def test_a_naive_last_commit_compares_with_naive_now() -> None:
    otp = _otp(last_updated=datetime(2020, 1, 1))
    assert otp.is_stale() is True
    assert otp.is_stale(now=datetime(2020, 6, 1)) is False
    with pytest.raises(ValueError, match="now must be naive"):
        otp.is_stale(now=datetime(2020, 6, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        _otp().is_stale(now=datetime(2020, 6, 1))


@pytest.mark.parametrize(
    ("now", "days", "error", "name"),
    [
        ("2020-01-01", 365, TypeError, "now"),
        (None, -1, ValueError, "days"),
        (None, 1.5, TypeError, "days"),
    ],
)
def test_is_stale_rejects_bad_arguments(
    now: object, days: object, error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        _otp().is_stale(now=now, days=days)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://pypi.python.org/pypi/django-otp", "django-otp"),
        ("https://pypi.python.org/pypi/django-otp/", "django-otp"),
        ("https://pypi.org/project/Django_OTP/", "Django_OTP"),
        ("django-silk-contrib", "django-silk-contrib"),
        ("", None),
        ("https://pypi.org/project/", None),
    ],
)
def test_pypi_name_takes_every_form_the_data_holds(url: str, name: str | None) -> None:
    assert pypi_name(url) == name
    assert _otp(pypi_url=url).pypi_name == name


def test_normalize_name_is_pep_503() -> None:
    assert normalize_name("Django_OTP") == "django-otp"
    assert normalize_name("zope.interface") == "zope-interface"
    assert normalize_name("a-_.b") == "a-b"


def test_site_urls_follow_the_root_the_links_came_from() -> None:
    otp = _otp()
    assert otp.site_url == "https://djangopackages.org/packages/p/django-otp/"
    local = attrs.evolve(otp, category=Link("http://127.0.0.1:8000/api/v4/categories/1/", 1))
    assert local.site_url == "http://127.0.0.1:8000/packages/p/django-otp/"
    grid = sample_grids()[0]
    assert grid.site_url == f"https://djangopackages.org/grids/g/{grid.slug}/"
    empty: Grid = attrs.evolve(grid, packages=())
    assert empty.site_url == f"https://djangopackages.org/grids/g/{grid.slug}/"


def test_site_root_of() -> None:
    assert site_root_of("https://example.org/mirror/api/v4/packages/1/") == (
        "https://example.org/mirror/"
    )
    assert site_root_of("http://127.0.0.1:81/other/1/") == "http://127.0.0.1:81/"
    assert site_root_of(None) == "https://djangopackages.org/"


def test_the_models_default_is_the_sites_threshold() -> None:
    import inspect

    from djangopackages_sdk._health import STALE_AFTER_DAYS

    assert inspect.signature(Package.is_stale).parameters["days"].default == STALE_AFTER_DAYS
