"""The identity map: one instance per resource, a slug index that never answers stale."""

from __future__ import annotations

import attrs

from djangopackages_sdk._identity import IdentityMap
from djangopackages_sdk.testing import sample_categories, sample_packages


def test_store_keeps_an_equal_instance_and_replaces_a_changed_one() -> None:
    identity = IdentityMap()
    package = sample_packages()[0]
    (first,) = identity.store_many([package])
    (again,) = identity.store_many([attrs.evolve(package)])
    assert again is first
    changed = attrs.evolve(package, repo_watchers=package.repo_watchers + 1)
    (kept,) = identity.store_many([changed])
    assert kept is changed
    assert identity.get("packages", package.id) is changed
    assert len(identity) == 1


def test_a_renamed_slug_no_longer_finds_the_package() -> None:
    identity = IdentityMap()
    package = sample_packages()[0]
    identity.store_many([package])
    assert identity.by_slug("packages", package.slug) is package
    renamed = attrs.evolve(package, slug=f"{package.slug}-renamed")
    identity.store_many([renamed])
    assert identity.by_slug("packages", package.slug) is None
    assert identity.by_slug("packages", renamed.slug) is renamed


def test_categories_have_no_slug_index_and_clear_forgets_everything() -> None:
    identity = IdentityMap()
    category = sample_categories()[0]
    identity.store_many([category])
    identity.note_count("categories", 1)
    assert identity.by_slug("categories", category.slug) is None
    assert identity.rows("categories") == [category]
    identity.clear()
    assert len(identity) == 0
    assert identity.count("categories") is None
