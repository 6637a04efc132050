"""`Catalog.diff` and `CatalogDiff`: what changed, host-free, in order, through JSON and back."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from conftest import Mode
from djangopackages_sdk import (
    AsyncClient,
    Catalog,
    CatalogDiff,
    Category,
    Change,
    Client,
    Grid,
    Link,
    MembershipChange,
)
from djangopackages_sdk.testing import (
    FakeAPI,
    LiveServer,
    sample_categories,
    sample_grids,
    sample_packages,
)
from helpers import API_ROOT, LOCAL_ROOT

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _catalog(
    packages: Any = None, grids: Any = None, categories: Any = None, base_url: str = API_ROOT
) -> Catalog:
    return Catalog(
        base_url,
        tuple(sample_packages() if packages is None else packages),
        tuple(sample_grids() if grids is None else grids),
        tuple(sample_categories() if categories is None else categories),
        fetched_at=WHEN,
    )


def _with(package_id: int, **changes: Any) -> list[Any]:
    return [attrs.evolve(p, **changes) if p.id == package_id else p for p in sample_packages()]


def _round_trip(diff: CatalogDiff) -> CatalogDiff:
    return CatalogDiff.from_dict(json.loads(json.dumps(diff.to_dict())))


def test_same_catalogue_diffs_empty() -> None:
    diff = _catalog().diff(_catalog())
    assert not diff
    assert len(diff) == 0
    assert list(diff) == []
    assert str(diff) == "no changes"


def test_a_changed_field_lists_only_what_changed() -> None:
    old = _catalog()
    target = old.packages[0]
    new = _catalog(_with(target.id, pypi_version="99.0", repo_watchers=target.repo_watchers + 5))
    diff = old.diff(new)
    (change,) = diff
    assert (change.kind, change.collection, change.id, change.slug) == (
        "changed",
        "packages",
        target.id,
        target.slug,
    )
    assert dict(change.fields) == {
        "pypi_version": (target.pypi_version, "99.0"),
        "repo_watchers": (target.repo_watchers, target.repo_watchers + 5),
    }
    assert diff.new_versions == (change,)
    assert diff.new_packages == ()
    assert diff.removed_packages == ()
    assert change.value("pypi_version") == "99.0"
    with pytest.raises(KeyError):
        change.value("title")  # unchanged: not listed
    assert str(diff) == "1 new version, 1 changed package"


def test_added_and_removed_rows_carry_their_values() -> None:
    packages = list(sample_packages())
    gone, *kept = packages
    born = attrs.evolve(kept[0], id=9999, slug="brand-new", title="Brand new", pypi_version="0.1")
    diff = _catalog().diff(_catalog([*kept, born]))
    assert [(c.kind, c.id) for c in diff] == sorted(
        [("removed", gone.id), ("added", 9999)], key=lambda pair: pair[1]
    )
    (new,) = diff.new_packages
    assert new.value("title") == "Brand new"
    assert new.fields["pypi_version"] == (None, "0.1")
    assert new.fields["category"] == (None, born.category.id)  # a link is its id
    (removed,) = diff.removed_packages
    assert removed.slug == gone.slug
    assert removed.value("title") == gone.title
    assert removed.fields["grids"] == (tuple(g.id for g in gone.grids), None)
    assert diff.new_versions == ()  # a new package's first version is not a "new version"
    assert str(diff) == "1 new package, 1 removed package"


def test_order_is_by_collection_then_id() -> None:
    packages = [attrs.evolve(p, title=p.title + "!") for p in sample_packages()]
    grids = [attrs.evolve(g, title=g.title + "!") for g in sample_grids()]
    categories = [attrs.evolve(c, title=c.title + "!") for c in sample_categories()]
    diff = _catalog().diff(_catalog(reversed(packages), reversed(grids), categories))
    keys = [(c.collection, c.id) for c in diff]
    order = {"packages": 0, "grids": 1, "categories": 2}
    assert keys == sorted(keys, key=lambda k: (order[k[0]], k[1]))
    assert len(diff.changed("packages")) == 5
    assert len(diff.changed("grids")) == 8
    assert len(diff.changed("categories")) == 1
    assert str(diff) == "5 changed packages, 8 changed grids, 1 changed category"


def test_datetimes_compare_by_instant() -> None:
    old = _catalog()
    target = old.packages[0]
    shifted = target.modified.astimezone(timezone(timedelta(hours=9)))
    assert shifted.utcoffset() != target.modified.utcoffset()
    assert not old.diff(_catalog(_with(target.id, modified=shifted)))
    later = target.modified + timedelta(seconds=1)
    (change,) = old.diff(_catalog(_with(target.id, modified=later)))
    assert dict(change.fields) == {"modified": (target.modified, later)}


def test_links_compare_by_id_not_host() -> None:
    """The same data read through two hosts (two fakes) diffs empty; a moved link does not."""
    catalogs = []
    for root in (API_ROOT, LOCAL_ROOT):
        fake = FakeAPI.with_sample_data(base_url=root)
        with Client(root, http_client=_http(fake)) as dp:
            catalogs.append(dp.catalog())
    first, second = catalogs
    assert first.packages != second.packages  # equality sees the host...
    assert not first.diff(second)  # ...the diff does not
    grid = second.grids[0]
    moved = attrs.evolve(grid, packages=grid.packages[1:])
    diff = first.diff(attrs.evolve(second, grids=(moved, *second.grids[1:])))
    (change,) = diff
    assert change.fields["packages"] == (
        tuple(link.id for link in grid.packages),
        tuple(link.id for link in grid.packages[1:]),
    )
    assert diff.grid_membership_changes == (
        MembershipChange(grid.id, grid.packages[0].id, joined=False),
    )


def _http(fake: FakeAPI) -> Any:
    import httpx

    return httpx.Client(transport=fake.transport)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_two_live_servers_diff_empty(mode: Mode) -> None:
    """Two servers on two ports, same data: every link differs by port, the diff is empty."""
    with (
        LiveServer(FakeAPI.with_sample_data()) as one,
        LiveServer(FakeAPI.with_sample_data()) as two,
    ):
        catalogs = []
        for server in (one, two):
            if mode == "sync":
                with Client(server.base_url) as dp:
                    catalogs.append(dp.catalog())
            else:
                async with AsyncClient(server.base_url) as adp:
                    catalogs.append(await adp.catalog())
    assert catalogs[0].base_url != catalogs[1].base_url
    assert not catalogs[0].diff(catalogs[1])


def test_grid_membership_from_both_sides() -> None:
    old = _catalog()
    package = old.packages[0]
    grid = next(g for g in old.grids if all(link.id != package.id for link in g.packages))
    link_to_grid: Link[Grid] = Link(f"{API_ROOT}grids/{grid.id}/", grid.id)
    joined = _with(package.id, grids=(*package.grids, link_to_grid))
    diff = old.diff(_catalog(joined))
    assert diff.grid_membership_changes == (MembershipChange(grid.id, package.id, joined=True),)
    # A removed grid: every package it listed left it.
    leaving = old.grids[0]
    diff = old.diff(_catalog(grids=old.grids[1:]))
    assert diff.grid_membership_changes == tuple(
        MembershipChange(leaving.id, pid, joined=False)
        for pid in sorted(link.id for link in leaving.packages)
    )


def test_round_trip_through_json_is_exact() -> None:
    packages = list(sample_packages())
    gone, *kept = packages
    changed = attrs.evolve(kept[0], pypi_version="9", last_updated=None, participants=("x",))
    diff = _catalog().diff(
        attrs.evolve(_catalog([changed, *kept[1:]]), fetched_at=WHEN + timedelta(days=1))
    )
    assert diff.since == WHEN
    assert diff.until == WHEN + timedelta(days=1)
    again = _round_trip(diff)
    assert again == diff
    assert json.dumps(again.to_dict()) == json.dumps(diff.to_dict())
    removed = next(c for c in again if c.kind == "removed")
    assert removed.fields["created"] == (gone.created, None)
    assert isinstance(removed.fields["grids"][0], tuple)  # lists come back as tuples
    assert _round_trip(CatalogDiff(())) == CatalogDiff(())


def test_to_dict_holds_json_values() -> None:
    old = _catalog()
    target = old.packages[0]
    diff = old.diff(_catalog(_with(target.id, modified=WHEN, grids=())))
    data = diff.to_dict()
    (change,) = data["changes"]
    assert change["fields"]["modified"] == [target.modified.isoformat(), WHEN.isoformat()]
    assert change["fields"]["grids"] == [[g.id for g in target.grids], []]
    assert data["since"] == WHEN.isoformat()


def _raw(**overrides: Any) -> dict[str, Any]:
    return {"kind": "changed", "collection": "grids", "id": 1, "slug": "s", **overrides}


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ([], "a diff must be a mapping"),
        ({"changes": {}}, "changes: expected a list"),
        ({"changes": [3]}, "changes[0]: expected a mapping"),
        ({"changes": [{"kind": "moved"}]}, "changes[0].kind"),
        ({"changes": [{"kind": "added", "collection": "users"}]}, "changes[0].collection"),
        (
            {"changes": [{"kind": "added", "collection": "grids", "id": True, "slug": "s"}]},
            "changes[0].id: expected int, got bool",
        ),
        (
            {"changes": [{"kind": "added", "collection": "grids", "id": 1, "slug": None}]},
            "changes[0].slug",
        ),
        (
            {"changes": [{"kind": "added", "collection": "grids", "id": 1, "slug": "s"}]},
            "changes[0].fields: expected a mapping",
        ),
        (
            {"changes": [_raw(fields={"nope": [1, 2]})]},
            "changes[0].fields.nope: not a field",
        ),
        ({"changes": [_raw(fields={"title": [1]})]}, "changes[0].fields.title: expected [old"),
        (
            {"changes": [_raw(fields={"title": ["a", 2]})]},
            "changes[0].fields.title[1]: expected str, got int",
        ),
        (
            {"changes": [_raw(fields={"created": ["a", None]})]},
            "changes[0].fields.created[0]: invalid ISO 8601",
        ),
        (
            {"changes": [_raw(fields={"packages": [[1, "2"], None]})]},
            "changes[0].fields.packages[0][1]: expected int",
        ),
        (
            {"changes": [_raw(fields={"packages": [5, None]})]},
            "changes[0].fields.packages[0]: expected a list",
        ),
        ({"changes": [], "since": 5}, "since: expected an ISO 8601"),
    ],
)
def test_from_dict_names_what_is_wrong(data: Any, where: str) -> None:
    with pytest.raises(ValueError, match=re.escape(where)):
        CatalogDiff.from_dict(data)


def test_views_reject_an_unknown_collection() -> None:
    with pytest.raises(ValueError, match="collection"):
        CatalogDiff(()).added("users")  # type: ignore[arg-type]


def test_diff_takes_a_catalog_only() -> None:
    with pytest.raises(TypeError, match="newer must be a Catalog"):
        _catalog().diff(sample_packages())  # type: ignore[arg-type]


def test_change_repr_and_mapping_is_read_only() -> None:
    change = Change("changed", "packages", 1, "p", {"title": ("a", "b")})
    assert repr(change) == "<Change changed packages 1 'p' title>"
    with pytest.raises(TypeError):
        change.fields["title"] = ("c", "d")  # type: ignore[index]
    assert repr(Change("added", "grids", 2, "g")) == "<Change added grids 2 'g'>"


def test_same_root_but_a_link_on_another_host_is_no_change() -> None:
    """Rows equal but for a link's host (one catalogue root): the fields decide, not ==."""
    old = _catalog()
    target = old.packages[0]
    elsewhere: Link[Category] = Link(
        f"{LOCAL_ROOT}categories/{target.category.id}/", target.category.id
    )
    new = _catalog(_with(target.id, category=elsewhere))
    assert new.packages != old.packages
    assert not old.diff(new)


def test_no_membership_change_without_membership_fields() -> None:
    old = _catalog()
    diff = old.diff(_catalog(_with(old.packages[0].id, title="Renamed")))
    assert len(diff) == 1
    assert diff.grid_membership_changes == ()
