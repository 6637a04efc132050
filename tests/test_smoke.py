"""A first end-to-end pass over both clients with the bundled sample."""

from __future__ import annotations

from conftest import Harness
from djangopackages_sdk import Category, Grid, Package


async def test_get_list_resolve(dp: Harness) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    assert isinstance(otp, Package)
    assert await dp.run(lambda c: c.packages.get(1867)) is otp
    slugs = [p.slug for p in await dp.collect(lambda c: c.packages.list(page_size=2))]
    assert len(slugs) == len(set(slugs)) == 5
    category = await dp.run(lambda c: c.resolve(otp.category))
    assert isinstance(category, Category)
    grids = await dp.run(lambda c: c.resolve_many(otp.grids))
    assert [g.id for g in grids] == [link.id for link in otp.grids]
    assert all(isinstance(g, Grid) for g in grids)
