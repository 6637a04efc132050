"""The grid comparison: lookups, sorting, rendering, frames, and both clients' requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import attrs
import pandas as pd
import polars as pl
import pytest

from conftest import Harness
from djangopackages_sdk import Catalog, Comparison, ComparisonRow, Grid, Link, Package
from djangopackages_sdk.testing import sample_categories, sample_grids, sample_packages
from helpers import API_ROOT as API
from helpers import many_packages

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def sample() -> Catalog:
    return Catalog(API, sample_packages(), sample_grids(), sample_categories())


def _package(pid: int, title: str, category: int, **changes: object) -> Package:
    base = sample_packages()[0]
    return attrs.evolve(
        base,
        id=pid,
        title=title,
        slug=title.lower(),
        category=Link(f"{API}categories/{category}/", category),
        **changes,  # type: ignore[arg-type]
    )


def _synthetic() -> Catalog:
    """Four packages whose every sortable column has ties and unknowns."""
    packages = (
        _package(
            1,
            "beta",
            1,
            repo_watchers=10,
            repo_forks=5,
            last_updated=datetime(2025, 1, 1, tzinfo=UTC),
            commits_over_52=(1,) * 52,
            participants=("a", "b", "c"),
        ),
        _package(
            2,
            "Alpha",
            2,
            repo_watchers=10,
            repo_forks=7,
            last_updated=None,
            commits_over_52=(),
            participants=(),
        ),
        _package(
            3,
            "gamma",
            1,
            repo_watchers=50,
            repo_forks=1,
            last_updated=datetime(2024, 1, 1, tzinfo=UTC),
            commits_over_52=(0,) * 51 + (5,),
            participants=tuple("abcdefghij"),
        ),
        _package(
            4,
            "Delta",
            3,  # not in the catalogue: no category title
            repo_watchers=0,
            repo_forks=7,
            last_updated=datetime(2026, 1, 1, tzinfo=UTC),
            commits_over_52=(2,) * 26 + (0,) * 26,
            participants=("x", "y", "z"),
        ),
    )
    app = sample_categories()[0]
    categories = (app, attrs.evolve(app, id=2, title="Framework", slug="frameworks"))
    grid = attrs.evolve(
        sample_grids()[0],
        id=10,
        slug="four",
        packages=tuple(Link(f"{API}packages/{p.id}/", p.id) for p in packages),
    )
    return Catalog(API, packages, (grid,), categories)


ORDERS = {
    "title": [2, 1, 4, 3],
    "stars": [3, 2, 1, 4],
    "forks": [2, 4, 1, 3],
    "last_commit": [4, 1, 3, 2],
    "commits": [1, 4, 3, 2],
    "participants": [3, 1, 4, 2],
    "category": [1, 3, 2, 4],
}
API_NAMES = {
    "stars": "repo_watchers",
    "forks": "repo_forks",
    "last_commit": "last_updated",
    "commits": "commits_over_52",
}


@pytest.mark.parametrize("sort", sorted(ORDERS))
def test_each_sortable_column_sorts_with_ties_by_title_and_unknowns_last(sort: str) -> None:
    catalog = _synthetic()
    comparison = catalog.compare("four", sort=sort)
    assert [row.package.id for row in comparison.rows] == ORDERS[sort]
    assert comparison.sort == sort
    if sort in API_NAMES:  # the API's name of the column sorts the same way
        again = catalog.compare("four", sort=API_NAMES[sort])
        assert again.rows == comparison.rows
        assert again.sort == API_NAMES[sort]


def test_the_default_sort_is_by_stars() -> None:
    comparison = _synthetic().compare(10)
    assert comparison.sort == "repo_watchers"
    assert [row.stars for row in comparison.rows] == [50, 10, 10, 0]


def test_a_bad_sort_names_sort_and_lists_the_valid_ones(sample: Catalog) -> None:
    with pytest.raises(ValueError, match="sort must be one of") as caught:
        sample.compare("authentication", sort="downloads")
    message = str(caught.value)
    assert "'downloads'" in message
    for name in [*ORDERS, *API_NAMES.values()]:
        assert name in message
    with pytest.raises(TypeError, match="sort must be a str, not int"):
        sample.compare("authentication", sort=1)  # type: ignore[arg-type]


def test_the_grid_by_slug_id_link_or_model(sample: Catalog) -> None:
    grid = sample.grid("authentication")
    expected = sample.compare(grid, now=NOW)
    assert expected.grid is grid
    link: Link[Grid] = Link(f"{API}grids/7/", 7)
    keys: tuple[Grid | Link[Grid] | int | str, ...] = ("authentication", 7, link)
    for key in keys:
        assert sample.compare(key, now=NOW) == expected
    with pytest.raises(ValueError, match="grid must link to a grid, not to packages"):
        sample.compare(Link(f"{API}packages/7/", 7))
    with pytest.raises(TypeError, match="grid must be a Grid, a Link to one, an id or a slug"):
        sample.compare(7.0)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        sample.compare("no-such-grid")


def test_rows_hold_the_grid_page_columns(sample: Catalog) -> None:
    comparison = sample.compare("authentication", now=NOW)
    otp = comparison.rows[0]
    package = sample.package("django-otp")
    assert otp == ComparisonRow(
        package=package,
        title="django-otp",
        slug="django-otp",
        description=package.repo_description,
        category="App",
        last_commit=package.last_updated,
        version="1.7.0",
        commits=package.commits_over_52,
        stars=621,
        forks=117,
        participants=43,
        documentation_url="https://django-otp-official.readthedocs.io/",
        repo_url="https://github.com/django-otp/django-otp",
        pypi_url="https://pypi.org/project/django-otp/",
        site_url="https://djangopackages.org/packages/p/django-otp/",
        stale=False,
    )
    assert otp.commits_last_52_weeks == sum(package.commits_over_52) == 18
    assert comparison.rows[1].stale is True  # django-stronghold: last commit 2024-11-24
    assert len(comparison) == 2


def test_rows_normalise_missing_links() -> None:
    row = ComparisonRow.of(
        _package(5, "Bare", 1, documentation_url="", pypi_url="", last_updated=None), None, NOW
    )
    assert row.documentation_url is None
    assert row.pypi_url == ""
    assert row.stale is None
    assert row.category is None


MARKDOWN = """\
| Package | Description | Category | Last commit | Version | Commits (52 wk) | Stars | Forks | Participants | Stale | Links |
|---|---|---|---|---|---:|---:|---:|---:|---|---|
| [django-otp](https://djangopackages.org/packages/p/django-otp/) | A pluggable framework for adding two-factor authentication to Django using one-time passwords. | App | 2026-01-07 | 1.7.0 | 18 | 621 | 117 | 43 | no | [repo](https://github.com/django-otp/django-otp) · [PyPI](https://pypi.org/project/django-otp/) · [docs](https://django-otp-official.readthedocs.io/) |
| [django-stronghold](https://djangopackages.org/packages/p/django-stronghold/) | Get inside your stronghold and make all your Django views default login_required | App | 2024-11-24 | 0.4.0 | 0 | 402 | 46 | 22 | yes | [repo](https://github.com/mgrouchy/django-stronghold) · [PyPI](https://pypi.org/project/django-stronghold/) · [docs](https://readthedocs.org/projects/django-stronghold/) |
"""  # noqa: E501

TEXT = """\
Authentication: 2 packages, by repo_watchers
Package            Category  Last commit  Version  Commits (52 wk)  Stars  Forks  Participants  Stale  Activity       Description
-----------------  --------  -----------  -------  ---------------  -----  -----  ------------  -----  -------------  ----------------------------------------
django-otp         App       2026-01-07   1.7.0                 18    621    117            43  no     ▁▅▁▁▁▅▁▁█▁▁█▁  A pluggable framework for adding two-fa…
django-stronghold  App       2024-11-24   0.4.0                  0    402     46            22  yes    ▁▁▁▁▁▁▁▁▁▁▁▁▁  Get inside your stronghold and make all…"""  # noqa: E501


def test_markdown_of_the_sample(sample: Catalog) -> None:
    assert sample.compare("authentication", now=NOW).to_markdown() == MARKDOWN


def test_plain_text_of_the_sample(sample: Catalog) -> None:
    text = str(sample.compare("authentication", now=NOW))
    assert text == TEXT
    assert "\x1b" not in text


def test_markdown_cells_cannot_break_the_table() -> None:
    package = _package(
        9,
        "a|b [x]",
        1,
        repo_description="line one\nline two | <script>alert(1)</script> \\",
        documentation_url="javascript:alert(1)",
        repo_url="https://example.com/a (b)|c",
        pypi_url="",
    )
    grid = attrs.evolve(sample_grids()[0], packages=(Link(f"{API}packages/9/", 9),))
    catalog = Catalog(API, (package,), (grid,), sample_categories())
    row = catalog.compare(grid).to_markdown().splitlines()[2]
    assert row.startswith("| [a\\|b \\[x\\]](https://djangopackages.org/packages/p/a%7Cb%20[x]/) |")
    assert "line one line two \\| &lt;script&gt;alert(1)&lt;/script&gt; \\\\ |" in row
    assert "[repo](https://example.com/a%20%28b%29%7Cc)" in row
    assert "javascript" not in row
    assert "PyPI" not in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 12  # 11 cells: no other unescaped bar
    assert "\n" not in row


def test_plain_text_aligns_wide_characters() -> None:
    package = _package(9, "日本語パッケージ", 1, repo_description="説明\nsecond line")
    grid = attrs.evolve(sample_grids()[0], packages=(Link(f"{API}packages/9/", 9),))
    other = _package(8, "ascii", 1)
    grid = attrs.evolve(grid, packages=(*grid.packages, Link(f"{API}packages/8/", 8)))
    lines = str(Catalog(API, (package, other), (grid,), sample_categories()).compare(grid))
    header, _, first, second = lines.splitlines()[1:]
    # The wide name takes 16 terminal columns (8 characters): the others pad to it.
    assert header.index("Category") == 18
    assert first.startswith("ascii" + " " * 13 + "App")
    assert second.startswith("日本語パッケージ  App")
    assert second.endswith("説明 second line")


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_frames_follow_the_rows(sample: Catalog, library: str) -> None:
    comparison = sample.compare("authentication", sort="title", now=NOW)
    if library == "pandas":
        frame = comparison.to_pandas()
        assert {n: str(t) for n, t in frame.dtypes.items()} == {
            "id": "int64",
            "title": "string",
            "slug": "string",
            "description": "string",
            "category": "string",
            "last_commit": "datetime64[us, UTC]",
            "version": "string",
            "commits": "object",
            "commits_last_52_weeks": "int64",
            "stars": "int64",
            "forks": "int64",
            "participants": "int64",
            "documentation_url": "string",
            "repo_url": "string",
            "pypi_url": "string",
            "site_url": "string",
            "stale": "boolean",
        }
        records = frame.to_dict("records")
        assert isinstance(frame, pd.DataFrame)
    else:
        polars = comparison.to_polars()
        assert polars.schema["stale"] == pl.Boolean
        assert polars.schema["commits"] == pl.List(pl.Int64)
        assert polars.schema["last_commit"] == pl.Datetime("us", "UTC")
        records = polars.to_dicts()
    assert [r["slug"] for r in records] == [row.slug for row in comparison.rows]
    first, row = records[0], comparison.rows[0]
    assert first["last_commit"] == row.last_commit
    assert tuple(first["commits"]) == row.commits
    assert first["stale"] == row.stale
    assert first["id"] == row.package.id


def test_an_empty_grid_compares_to_nothing() -> None:
    grid = attrs.evolve(sample_grids()[0], packages=())
    comparison = Catalog(API, (), (grid,), ()).compare(grid)
    assert comparison.rows == ()
    assert comparison.to_pandas().shape == (0, 17)
    assert comparison.to_markdown().count("\n") == 2
    assert str(comparison).splitlines()[0].endswith(": 0 packages, by repo_watchers")


# -- the clients -----------------------------------------------------------------------
def _paths(dp: Harness) -> list[str]:
    return sorted(str(r.url).removeprefix(API) for r in dp.fake.requests)


async def test_a_client_compares_in_three_requests(dp: Harness) -> None:
    comparison = await dp.run(lambda c: c.compare("authentication", now=NOW))
    assert isinstance(comparison, Comparison)
    assert _paths(dp) == ["categories/1/", "grids/authentication/", "packages/?limit=100"]
    catalog = Catalog(API, sample_packages(), sample_grids(), sample_categories())
    assert comparison == catalog.compare("authentication", now=NOW)
    # Everything is in the identity map now: the same comparison costs nothing.
    dp.fake.clear_requests()
    assert await dp.run(lambda c: c.compare(7, sort="forks", now=NOW)) == catalog.compare(
        7, sort="forks", now=NOW
    )
    assert dp.fake.requests == []


async def test_a_grid_model_saves_its_request_and_categories_come_in_one(dp: Harness) -> None:
    app = sample_categories()[0]
    dp.fake.add(attrs.evolve(app, id=2, title="Framework"))
    otp = next(p for p in sample_packages() if p.slug == "django-otp")
    dp.fake.add(attrs.evolve(otp, category=Link(f"{API}categories/2/", 2)))
    everything = attrs.evolve(
        sample_grids()[0],
        id=900,
        slug="everything",
        packages=tuple(Link[Package](f"{API}packages/{p.id}/", p.id) for p in sample_packages()),
    )
    comparison = await dp.run(lambda c: c.compare(everything, sort="title"))
    # No grid request; the packages from the listing's first page; both categories
    # from the categories' first page (two unknown links: the listing plan).
    assert _paths(dp) == ["categories/?limit=100", "packages/?limit=100"]
    assert {row.slug: row.category for row in comparison.rows} == {
        p.slug: "Framework" if p.id == otp.id else "App" for p in sample_packages()
    }
    assert comparison.grid is everything


async def test_a_few_packages_of_a_large_catalogue_come_by_detail(dp: Harness) -> None:
    h = dp.new(fake=many_packages(900))
    try:
        links = tuple(Link[Package](f"{API}packages/{i}/", i) for i in (2000, 2001, 2002))
        grid = attrs.evolve(sample_grids()[0], id=901, slug="old", packages=links)
        h.fake.add(grid)
        comparison = await h.run(lambda c: c.compare(Link(f"{API}grids/901/", 901)))
        # The grid, the first page (it reveals count=900 but not these packages),
        # three details (cheaper than listing 800 rows), then the category.
        assert _paths(h) == [
            "categories/1/",
            "grids/901/",
            "packages/2000/",
            "packages/2001/",
            "packages/2002/",
            "packages/?limit=100",
        ]
        assert [row.package.id for row in comparison.rows] == [2000, 2001, 2002]
    finally:
        await h.close()


async def test_client_misuse_fails_before_any_request(dp: Harness) -> None:
    with pytest.raises(ValueError, match="sort must be one of"):
        await dp.run(lambda c: c.compare("authentication", sort="downloads"))
    with pytest.raises(TypeError, match="grid must be a Grid"):
        await dp.run(lambda c: c.compare(None))
    with pytest.raises(ValueError, match="grid must link to a grid"):
        await dp.run(lambda c: c.compare(Link(f"{API}categories/1/", 1)))
    assert dp.fake.requests == []


def test_comparisons_are_frozen_values(sample: Catalog) -> None:
    comparison = sample.compare("authentication", now=NOW)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        comparison.sort = "title"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        comparison.rows[0].stars = 1  # type: ignore[misc]
    assert hash(comparison) == hash(sample.compare(7, now=NOW))


def test_unknown_values_render_as_empty_cells() -> None:
    comparison = _synthetic().compare("four", sort="title", now=NOW)
    alpha = comparison.rows[0]
    assert (alpha.title, alpha.last_commit, alpha.commits, alpha.stale) == ("Alpha", None, (), None)
    markdown = comparison.to_markdown().splitlines()[2]
    assert "| Framework |  | 0.6.0 | 0 | 10 | 7 | 0 | ? |" in markdown
    text = str(comparison).splitlines()
    header, alpha_line = text[1], text[3]
    activity = header.index("Activity")
    assert alpha_line[activity : activity + 13] == " " * 13  # no weeks counted: no bars
    assert alpha_line[header.index("Last commit") :].startswith("  " + " " * 9)
    delta = next(line for line in text if line.startswith("Delta"))
    assert "██████▅▁▁▁▁▁▁" in delta  # 8 a month for 6 months, then 4, then none


def test_only_web_urls_become_links() -> None:
    from djangopackages_sdk._compare import _md_link

    assert _md_link("x", None) == "x"
    assert _md_link("x", "javascript:alert(1)") == "x"
    assert _md_link("a<b", "https://e.org/<x>") == "[a&lt;b](https://e.org/%3Cx%3E)"
