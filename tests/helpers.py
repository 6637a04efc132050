"""What several test modules share: one definition of each."""

from __future__ import annotations

from typing import Any, Final

from djangopackages_sdk.testing import FakeAPI

API_ROOT: Final = "https://djangopackages.org/api/v4/"
"""The API root the fake answers under by default (``DEFAULT_BASE_URL``)."""

LOCAL_ROOT: Final = "http://127.0.0.1:8765/api/v4/"
"""Another API root, for replayed exchanges recorded from a local server."""


def many_packages(n: int) -> FakeAPI:
    """The sample data plus generated packages (ids from 2000), ``n`` packages in all."""
    fake = FakeAPI.with_sample_data()
    fake.add(*(package_row(fake, 2000 + i) for i in range(n - len(fake.packages))))
    assert len(fake.packages) == n
    return fake


def package_row(fake: FakeAPI, resource_id: int) -> dict[str, Any]:
    """A new package row: sample package 359 with another id, slug and title."""
    template = fake.packages[359]
    return dict(template, id=resource_id, slug=f"pkg-{resource_id}", title=f"Pkg {resource_id}")
