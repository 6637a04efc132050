"""What several test modules share: one definition of each."""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta
from pathlib import Path
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


FIXTURES: Final = Path(__file__).parent / "fixtures"


def recorded_packages() -> list[dict[str, Any]]:
    """Every distinct package row recorded in tests/fixtures (details and list pages), by id."""
    rows: dict[int, dict[str, Any]] = {}
    for path in sorted(FIXTURES.glob("real-api/packages-*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))["response"]["body"]
        data = json.loads(body) if body else None
        found = data.get("results", [data]) if isinstance(data, dict) else []
        rows.update((row["id"], row) for row in found if "commits_over_52" in row)
    return [rows[key] for key in sorted(rows)]


def varied_packages(n: int) -> FakeAPI:
    """A fake with ``n`` packages shaped like the live catalogue, made from the recorded rows.

    The recorded rows come first, as they are. Each later copy of one has its
    own id, slug, title, URLs, description and timestamps (shifted by a minute
    per copy), and three logins in four renamed for a group of 20 packages, so
    that some 10,000 logins repeat across packages with a long tail, as live.
    Versions and commit vectors come from the recorded rows. (`many_packages`
    is one package n times.)
    """
    templates = recorded_packages()
    rows = []
    for index in range(n):
        copy, row = divmod(index, len(templates))
        template = templates[row]
        new = dict(template, id=10_000 + index)
        if copy:
            slug = new["slug"] = f"{template['slug']}-{copy}"
            new["title"] = f"{template['title']} {copy}"
            for key in ("repo_url", "pypi_url", "documentation_url"):
                if new[key]:
                    new[key] = new[key].replace(template["slug"], slug)
            if new["repo_description"]:
                new["repo_description"] += f" ({copy})"
            for key in ("created", "modified", "last_updated", "last_fetched"):
                if new[key] is not None:
                    moment = datetime.fromisoformat(new[key]) + timedelta(minutes=copy)
                    new[key] = moment.isoformat()
            new["participants"] = [
                login if zlib.crc32(login.encode()) % 4 == 0 else f"{login}.{index // 20}"
                for login in template["participants"]
            ]
        rows.append(new)
    return FakeAPI(packages=rows)
