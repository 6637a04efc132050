"""The notebook display: every ``_repr_html_`` parses, escapes, shows its values, stays small.

The HTML is checked with the standard library's parser (``htmlcheck.check``):
well formed, no script, nothing loaded from elsewhere, only web URLs as links.
Ages are computed against a fixed clock.
"""

from __future__ import annotations

import pickle
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from djangopackages_sdk import (
    Catalog,
    Client,
    Package,
    Page,
    ResourceList,
    SearchResult,
    SearchResults,
)
from djangopackages_sdk._cards import package_card, search_result_card
from djangopackages_sdk._convert import get_converter
from djangopackages_sdk._html import STYLE, age, brief_repr, link, sparkline_svg
from djangopackages_sdk._overviews import catalog_html, comparison_html, items_table
from djangopackages_sdk.testing import (
    FakeAPI,
    sample_categories,
    sample_grids,
    sample_packages,
)
from helpers import API_ROOT
from htmlcheck import check

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script> & \"quotes\""


def _catalog() -> Catalog:
    return Catalog(
        API_ROOT,
        sample_packages(),
        sample_grids(),
        sample_categories(),
        fetched_at=NOW - timedelta(days=3),
    )


def _otp() -> Package:
    return next(p for p in sample_packages() if p.slug == "django-otp")


def _hostile(package: Package) -> Package:
    return attrs.evolve(
        package,
        title=HOSTILE,
        slug="x" * 300,
        repo_description=HOSTILE,
        repo_url="javascript:alert(1)",
        documentation_url="data:text/html,<script>alert(1)</script>",
        pypi_version=HOSTILE,
    )


# -- primitives --------------------------------------------------------------------------


def test_sparkline_draws_every_week_with_a_title() -> None:
    svg = sparkline_svg((0, 2, 4))
    seen = check(svg)
    assert seen.tags.count("svg") == 1
    assert "6 commits in 3 weeks, at most 4 in a week" in seen.text
    assert 'points="0,98 10,50 20,2"' in svg  # the peak at the top, zero on the baseline
    assert 'role="img"' in svg


def test_sparkline_of_an_empty_or_silent_vector() -> None:
    assert "<svg" not in sparkline_svg(())
    assert "no commit data" in check(sparkline_svg(())).text
    flat = sparkline_svg((0,) * 52)
    assert "no commits in 52 weeks" in check(flat).text
    assert set(re.findall(r"\d+,(\d+)", flat.split("<polyline")[1])) == {"98"}
    single = sparkline_svg((3,))
    assert 'points="0,2 10,2"' in single  # one week still draws a line


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (None, "unknown"),
        (NOW - timedelta(hours=3), "today"),
        (NOW - timedelta(days=1), "1 day ago"),
        (NOW - timedelta(days=13), "1 week ago"),
        (NOW - timedelta(days=95), "3 months ago"),
        (NOW - timedelta(days=800), "2 years ago"),
        (NOW + timedelta(days=2), "in the future"),
        (date(2026, 12, 1), "5 days ago"),
        (datetime(2026, 12, 4, 12, 0), "2 days ago"),  # naive against an aware clock
    ],
)
def test_age_in_words(when: datetime | date | None, expected: str) -> None:
    assert age(when, NOW) == expected


def test_age_defaults_to_the_current_time() -> None:
    assert age(datetime.now(UTC) - timedelta(days=400)) == "1 year ago"


def test_only_web_urls_become_links() -> None:
    assert link("javascript:alert(1)", "x") == "x"
    assert link("", "<b>") == "&lt;b&gt;"
    assert link(None, "y") == "y"
    assert check(link(' https://example.org/?a=1&b="2" ', "ok")).hrefs == [
        'https://example.org/?a=1&b="2"'
    ]


def test_the_style_follows_the_notebook_theme() -> None:
    css = STYLE
    assert "currentColor" in sparkline_svg((1, 2))
    assert "--jp-" in css
    assert "color:inherit" in css
    # Every rule is scoped to the display, no fixed text or page colour is forced.
    rules = [r for r in re.findall(r"([^{}]+)\{", css.removeprefix("<style>")) if r.strip()]
    assert all(r.strip().startswith(".dps") for r in rules), rules
    assert not re.search(r"(?<![-\w])color:#", css)
    assert not re.search(r"background(-color)?:#", css)


def test_brief_repr_cuts_long_values_and_keeps_the_quote() -> None:
    text = brief_repr("X", ("a", "y" * 100), ("b", 1), limit=12)
    assert text == "X(a='yyyyyyyyy\u2026', b=1, ...)"


# -- one value ---------------------------------------------------------------------------


def test_package_card_shows_its_facts_and_links() -> None:
    otp = _otp()
    html = package_card(otp, now=NOW)
    seen = check(html)
    assert len(html.encode()) < 10_000
    assert otp.title in seen.text
    assert otp.pypi_version is not None
    assert otp.pypi_version in seen.text
    assert f"{otp.repo_watchers:,}" in seen.text
    assert f"{otp.repo_forks:,}" in seen.text
    assert otp.last_updated is not None
    assert f"{otp.last_updated:%Y-%m-%d} (11 months ago)" in seen.text
    assert "id 1" in seen.text  # the category's id: a package alone knows no title
    assert f"{len(otp.grids)} grids (ids 7, 426)" in seen.text
    assert set(seen.hrefs) == {
        otp.repo_url,
        "https://pypi.org/project/django-otp/",
        otp.documentation_url,
        otp.site_url,
    }
    assert "active" in seen.text
    assert seen.tags.count("svg") == 1
    assert otp._repr_html_().startswith(STYLE)


def test_package_card_with_titles_from_a_catalogue_and_no_data() -> None:
    quiet = attrs.evolve(
        _otp(),
        last_updated=None,
        commits_over_52=(),
        pypi_version=None,
        documentation_url=None,
        pypi_url="",
        grids=(),
    )
    seen = check(package_card(quiet, category="App", grids=[], now=NOW))
    assert "Category" in seen.text
    assert "App" in seen.text
    assert "Grids" in seen.text
    assert "none" in seen.text
    assert "not on PyPI" in seen.text
    assert "unknown" in seen.text
    assert "no commit data" in seen.text
    assert "active" not in seen.text
    assert "no development" not in seen.text
    assert set(seen.hrefs) == {quiet.repo_url, quiet.site_url}  # no PyPI, no docs
    titled = check(package_card(_otp(), grids=["Auth", "2FA"], now=NOW)).text
    assert "Auth, 2FA" in titled


def test_a_stale_package_says_so() -> None:
    old = attrs.evolve(_otp(), last_updated=NOW - timedelta(days=400))
    assert "no development" in check(package_card(old, now=NOW)).text
    naive = attrs.evolve(_otp(), last_updated=datetime(2020, 1, 1))
    check(package_card(naive, now=NOW))  # no verdict for a naive time against an aware clock
    assert "no development" not in check(package_card(naive, now=NOW)).text
    summary = check(catalog_html(Catalog(API_ROOT, (old, naive), (), (), fetched_at=NOW), now=NOW))
    assert "No development (a year without commits)1" in summary.text


def test_every_api_string_is_escaped() -> None:
    bad = _hostile(_otp())
    html = bad._repr_html_()
    seen = check(html)  # no script element, no javascript: or data: link
    assert HOSTILE in seen.text  # shown as text, whole
    assert "&lt;script&gt;" in html
    assert "javascript:" not in " ".join(seen.hrefs)
    assert not any(h.startswith("data:") for h in seen.hrefs)
    assert "x" * 300 in " ".join(seen.hrefs)  # the slug is in the site URL, escaped
    grid = attrs.evolve(sample_grids()[0], title=HOSTILE, description=HOSTILE)
    category = attrs.evolve(sample_categories()[0], title=HOSTILE, description=HOSTILE)
    for value in (grid, category):
        assert HOSTILE in check(value._repr_html_()).text
    catalog = Catalog(API_ROOT, (bad,), (grid,), (category,), fetched_at=NOW)
    assert HOSTILE in check(catalog._repr_html_()).text
    assert HOSTILE in check(ResourceList((bad,))._repr_html_()).text


def test_short_reprs_name_the_value() -> None:
    otp = _otp()
    text = repr(otp)
    assert text == (
        "Package(id=1867, slug='django-otp', title='django-otp', "
        f"pypi_version={otp.pypi_version!r}, repo_watchers={otp.repo_watchers}, ...)"
    )
    assert len(repr(_hostile(otp))) <= 200
    assert repr(_hostile(otp)).startswith("Package(id=1867, slug='xxx")
    grid = sample_grids()[0]
    assert repr(grid) == (
        f"Grid(id={grid.id}, slug={grid.slug!r}, title={grid.title!r}, "
        f"packages=<{len(grid.packages)} links>, ...)"
    )
    assert repr(sample_categories()[0]) == "Category(id=1, slug='apps', title='App', ...)"


def test_grid_and_category_cards() -> None:
    grid = next(g for g in sample_grids() if g.id == 7)
    seen = check(grid._repr_html_())
    assert grid.title in seen.text
    assert f"{len(grid.packages)} packages" in seen.text
    assert seen.hrefs == [grid.site_url, grid.site_url]
    assert "catalog.compare(grid)" in seen.text
    locked = check(attrs.evolve(grid, is_locked=True)._repr_html_()).text
    assert "locked" in locked
    category = sample_categories()[0]
    seen = check(category._repr_html_())
    assert category.title_plural in seen.text
    assert "Shows PyPI" in seen.text


def _search() -> SearchResults:
    fake = FakeAPI.with_sample_data()
    with Client(http_client=httpx.Client(transport=fake.transport)) as dp:
        return dp.search("two-factor")


def test_search_returns_a_list_that_displays_as_a_table() -> None:
    hits = _search()
    assert isinstance(hits, list)
    assert isinstance(hits, SearchResults)
    assert hits == list(hits)
    assert hits[:1] == [hits[0]]
    assert re.fullmatch(r"<\d+ results: [\w, .-]+>", repr(hits))
    seen = check(hits._repr_html_())
    assert all(hit.title in seen.text for hit in hits)
    assert f"Search: {len(hits)} results" in seen.text
    assert repr(SearchResults()) == "<SearchResults: empty>"
    assert pickle.loads(pickle.dumps(hits)) == hits


def test_search_result_card() -> None:
    hit = _search()[0]
    assert isinstance(hit, SearchResult)
    seen = check(search_result_card(hit, now=NOW))
    assert hit.title in seen.text
    assert hit.item_type in seen.text
    assert seen.hrefs == [f"https://djangopackages.org{hit.absolute_url}"]
    odd = attrs.evolve(hit, absolute_url="javascript:x", category="", last_committed=None)
    seen = check(odd._repr_html_())
    assert seen.hrefs == []
    assert "unknown" in seen.text
    assert repr(hit).startswith(f"SearchResult(item_type={hit.item_type!r}, slug={hit.slug!r}")


# -- many values -------------------------------------------------------------------------


def test_catalogue_collections_are_tuples_that_show_their_head() -> None:
    catalog = _catalog()
    packages = catalog.packages
    assert isinstance(packages, ResourceList)
    assert isinstance(packages, tuple)
    assert packages == sample_packages()
    assert hash(packages) == hash(sample_packages())
    assert isinstance(packages[1:3], ResourceList)
    assert packages[1:3] == sample_packages()[1:3]
    assert packages[0] == sample_packages()[0]
    assert (
        repr(packages)
        == "<5 packages: django-messages, django-session-security, django-organizations, ...>"
    )
    assert repr(catalog.categories) == "<1 category: apps>"
    assert repr(ResourceList()) == "<ResourceList: empty>"
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(packages, protocol=protocol))
        assert again == packages
        assert type(again) is ResourceList
    seen = check(packages._repr_html_())
    assert all(p.title in seen.text for p in packages)
    grids = check(catalog.grids._repr_html_())
    assert all(g.title in grids.text for g in catalog.grids)
    assert "Apps" not in check(catalog.categories._repr_html_()).text  # a row, not a card
    assert check(ResourceList((1, 2))._repr_html_()).text.count("1") >= 1
    assert get_converter().unstructure(catalog.packages[:1]) == [
        get_converter().unstructure(catalog.packages[0])
    ]


def test_a_head_table_stops_at_ten_rows() -> None:
    many = ResourceList(attrs.evolve(_otp(), id=i, title=f"p{i}") for i in range(25))
    seen = check(items_table(many, now=NOW))
    assert "p9" in seen.text
    assert "p10" not in seen.text
    assert "\u2026 15 packages more" in seen.text
    assert repr(many).startswith("<25 packages: django-otp, django-otp, django-otp, ...")


def test_catalogue_summary() -> None:
    catalog = _catalog()
    seen = check(catalog_html(catalog, now=NOW))
    assert "5 packages" in seen.text
    assert "8 grids" in seen.text
    assert "1 category" in seen.text
    assert "3 days ago" in seen.text
    ranked = sorted(catalog.packages, key=lambda p: -p.repo_watchers)
    assert seen.text.index(ranked[0].title) < seen.text.index(ranked[1].title)
    assert "Category App" in seen.text
    assert "Largest grids" in seen.text
    assert catalog._repr_html_().startswith(STYLE)


def _live_scale_catalog() -> Catalog:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks import catalogue

    return catalogue.as_catalog(catalogue.generate(5_405, 380, 3, seed=9), fetched_at=NOW)


def test_a_live_scale_catalogue_displays_small() -> None:
    catalog = _live_scale_catalog()
    html = catalog._repr_html_()
    check(html)
    assert len(html.encode()) < 100_000
    assert "5,405 packages" in html
    assert len(check(catalog.packages._repr_html_()).text) < 20_000
    assert len(repr(catalog.packages)) < 200
    assert max(len(repr(p)) for p in catalog.packages) <= 200
    assert max(len(p._repr_html_().encode()) for p in catalog.packages[:200]) < 10_000


def test_a_page_and_the_page_iterators_show_what_was_read_without_io() -> None:
    fake = FakeAPI.with_sample_data()
    with Client(http_client=httpx.Client(transport=fake.transport)) as dp:
        listing = dp.packages.list(page_size=2)
        assert repr(listing) == f"<PageIterator {API_ROOT}packages/: not started>"
        assert "not started" in check(listing._repr_html_()).text
        pages = listing.pages()
        first: Page[Package] = next(pages)
        requests = len(fake.requests)
        seen = check(listing._repr_html_())
        assert len(fake.requests) == requests  # the display asks nothing
        assert "Rows read2" in seen.text
        assert "Server count5" in seen.text
        assert repr(listing) == f"<PageIterator {API_ROOT}packages/: 2 rows read>"
        page = check(first._repr_html_())
        assert "Page at offset 0: 2 new rows (the server counts 5)" in page.text
        assert repr(first) == "<Page offset=0 count=5: 2 items: django-otp, django-stronghold>"
        list(pages)
        assert "Rows read5" in check(listing._repr_html_()).text
    empty = Page[Package]((), 0, 0)
    assert repr(empty) == "<Page offset=0 count=0: 0 items>"
    assert "0 new rows" in check(empty._repr_html_()).text


def test_the_crawl_display_reports_skips_and_count_changes() -> None:
    from djangopackages_sdk._overviews import crawl_html

    @attrs.frozen
    class Skip:
        limit: int

    @attrs.frozen
    class State:
        checkpoint: Any = attrs.field(
            factory=lambda: attrs.make_class("P", ["seen", "offset"])(7, 9)
        )
        count: int | None = None
        requests: int = 2
        skipped: tuple[Skip, ...] = (Skip(3),)
        count_changed: tuple[int, int] | None = (10, 12)

    seen = check(crawl_html(State(), f"{API_ROOT}grids/", "AsyncPageIterator"))
    assert "Skipped3 rows" in seen.text
    assert "10 \u2192 12" in seen.text
    assert "Server count-" in seen.text


def test_comparison_shows_the_grid_page_with_sparklines() -> None:
    catalog = _catalog()
    comparison = catalog.compare(7, now=NOW)
    html = comparison._repr_html_()
    seen = check(html)
    assert comparison.grid.title in seen.text
    assert seen.tags.count("svg") == len(comparison.rows) > 0
    for row in comparison.rows:
        assert row.title in seen.text
        assert f"{row.stars:,}" in seen.text
    assert f"sorted by {comparison.sort}" in seen.text
    assert repr(comparison) == f"<Comparison authentication: 2 packages by {comparison.sort}>"
    stale = attrs.evolve(comparison.rows[0], stale=True, documentation_url=None, category=None)
    again = attrs.evolve(comparison, rows=(stale,))
    text = check(comparison_html(again, now=NOW)).text
    assert "no development" in text
