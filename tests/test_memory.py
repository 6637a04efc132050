"""What a held listing costs: every package of a live-sized catalogue, held by an open client.

Measured with tracemalloc after a garbage collection: the models, the
client's identity map and the shared converter caches they use, against the
JSON text of the same listing. Sizes only; no time is asserted.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from pathlib import Path

import httpx
import pytest

from djangopackages_sdk import Client, Package
from djangopackages_sdk._convert import get_converter
from djangopackages_sdk.testing import FakeAPI
from helpers import LOCAL_ROOT, varied_packages

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import catalogue  # noqa: E402

PACKAGES = 5405
"""The live catalogue's size."""


def _benchmark_catalogue() -> FakeAPI:
    """The benchmark's seeded catalogue with a long tail of 7,000 logins, on a short local
    root: links shorter than live, so the JSON is smaller and the ratio higher."""
    data = catalogue.generate(PACKAGES, 200, 3, logins=7_000)
    return FakeAPI(
        packages=data["packages"],
        grids=data["grids"],
        categories=data["categories"],
        base_url=LOCAL_ROOT,
    )


def held_listing(fake: FakeAPI) -> tuple[int, int]:
    """``(bytes held, bytes of JSON)`` for the full package listing of ``fake``."""
    with httpx.Client(transport=fake.transport) as http:
        text = http.get(f"{fake.base_url}packages/?limit={PACKAGES}").content
    # Once untraced: the generated code exists and the fake has rendered every page.
    with Client(fake.base_url, http_client=httpx.Client(transport=fake.transport)) as warm:
        assert len(list(warm.packages.list())) == PACKAGES
    get_converter().clear_caches()  # counted below, as a first listing fills them
    gc.collect()
    tracemalloc.start()
    try:
        floor = tracemalloc.get_traced_memory()[0]
        client = Client(fake.base_url, http_client=httpx.Client(transport=fake.transport))
        held: list[Package] = list(client.packages.list())
        gc.collect()
        size = tracemalloc.get_traced_memory()[0] - floor
    finally:
        tracemalloc.stop()
    assert len(held) == PACKAGES
    assert client.packages.get(held[-1].id) is held[-1]  # held by its identity map
    client.close()
    return size, len(text)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: varied_packages(PACKAGES), id="recorded-rows-varied"),
        pytest.param(_benchmark_catalogue, id="benchmark-catalogue-local-root"),
    ],
)
def test_a_held_listing_costs_at_most_one_and_a_half_times_its_json(
    build: object,
) -> None:
    held, text = held_listing(build())  # type: ignore[operator]
    assert held / text <= 1.5, f"{held:,} bytes held for {text:,} bytes of JSON"
