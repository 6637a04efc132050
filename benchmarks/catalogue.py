"""A deterministic synthetic Django Packages catalogue at live scale.

:func:`generate` returns API JSON dicts shaped exactly like the recorded bodies
in ``tests/fixtures/real-api`` (same keys in the same order, datetimes with the
site's UTC offset and microseconds omitted when zero, nulls and empty strings
where the real data has them). The data is seeded, so two runs with the same
parameters serve byte-identical pages.

What makes it realistic enough to benchmark parsing and memory:

* ids with gaps (deleted rows), newest id first in every list, ``created``
  growing with the id;
* most packages are inactive: their ``commits_over_52`` is 52 zeros (a few
  never-fetched ones have an empty list); active ones have sparse small counts;
* ``participants`` drawn from one shared pool of a few thousand logins with a
  long-tail (Zipf-like) popularity, so the same login repeats across packages;
* each package sits in 0-10 grids (most in 0-2) and each grid lists 0-50
  packages, consistent both ways (a grid's ``packages`` sorted by package title,
  a package's ``grids`` in the order they were linked);
* sometimes null ``last_updated``, ``last_fetched``, ``pypi_version`` and
  ``documentation_url``, and sometimes empty ``repo_url``, ``repo_description``,
  ``pypi_url`` and ``documentation_url``.

Run ``python benchmarks/catalogue.py`` to print a summary of the default catalogue.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypedDict
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from djangopackages_sdk import Catalog

__all__ = ["Catalogue", "as_catalog", "file_lines", "generate", "summary"]

SITE_TZ: Final = ZoneInfo("America/New_York")
"""The site's time zone: datetimes carry ``-04:00`` or ``-05:00`` as on the real server."""
BASE_URL: Final = "https://djangopackages.org/api/v4/"
DEFAULT_SEED: Final = 20_240_601
LOGIN_POOL: Final = 3_000
MAX_GRIDS_PER_PACKAGE: Final = 10
MAX_PACKAGES_PER_GRID: Final = 50

_FIRST: Final = datetime(2010, 8, 14, 18, 47, 52, tzinfo=UTC)
_LAST: Final = datetime(2026, 5, 25, 17, 1, 30, tzinfo=UTC)
_FETCH_DAY: Final = datetime(2026, 8, 9, 4, 0, 0, tzinfo=UTC)

_PREFIXES: Final = (
    ("django-", 55),
    ("dj-", 6),
    ("drf-", 8),
    ("wagtail-", 6),
    ("", 15),
    ("django_", 3),
    ("Django ", 7),
)
_TOPICS: Final = [
    "auth",
    "otp",
    "passkeys",
    "session-security",
    "organizations",
    "stronghold",
    "messages",
    "filter",
    "rest-views",
    "admin",
    "import-export",
    "debug-toolbar",
    "extensions",
    "celery-beat",
    "rq",
    "storages",
    "cors-headers",
    "environ",
    "allauth",
    "guardian",
    "taggit",
    "mptt",
    "treebeard",
    "polymorphic",
    "simple-history",
    "reversion",
    "crispy-forms",
    "widget-tweaks",
    "tables2",
    "datatables",
    "imagekit",
    "thumbnail",
    "versatileimagefield",
    "cleanup",
    "money",
    "phonenumber",
    "countries",
    "localflavor",
    "modeltranslation",
    "parler",
    "rosetta",
    "axes",
    "ratelimit",
    "csp",
    "otp-yubikey",
    "two-factor",
    "webauthn",
    "hijack",
    "impersonate",
    "loginas",
    "anymail",
    "ses",
    "post-office",
    "mailer",
    "templated-email",
    "channels",
    "q",
    "huey",
    "dramatiq",
    "redis",
    "cachalot",
    "cacheops",
    "silk",
    "prometheus",
    "health-check",
    "structlog",
    "log-request-id",
    "constance",
    "dynamic-preferences",
    "solo",
    "fsm",
    "viewflow",
    "river",
    "workflow",
    "payments",
    "stripe",
    "paypal",
    "oscar",
    "saleor",
    "shop",
    "cms",
    "blog",
    "zinnia",
    "wiki",
    "forum",
    "machina",
    "comments",
    "markdownx",
    "ckeditor",
    "tinymce",
    "summernote",
    "quill",
    "martor",
    "graphene",
    "strawberry",
    "ninja",
    "spectacular",
    "yasg",
    "filters",
    "nested-routers",
    "jsonapi",
    "hashid-field",
    "uuid-upload",
    "search",
    "haystack",
    "elasticsearch-dsl",
    "watson",
    "meilisearch",
    "geo",
    "leaflet",
    "mapwidgets",
    "vite",
    "webpack-loader",
    "compressor",
    "pipeline",
    "sass-processor",
    "tailwind",
    "htmx",
    "unicorn",
    "sitemaps",
    "robots",
    "seo",
    "meta",
    "redirects",
    "sites-extra",
    "flatpages-plus",
    "pages",
]
_SUFFIXES: Final = (
    ("", 62),
    ("-tools", 4),
    ("-utils", 4),
    ("-plus", 3),
    ("-ng", 3),
    ("-contrib", 3),
    ("-extra", 3),
    ("-kit", 3),
    ("-helpers", 3),
    ("-backend", 3),
    ("-bridge", 3),
    ("-lite", 2),
    ("-pro", 2),
    ("-2", 2),
)
_HOSTS: Final = (
    ("https://github.com/", 86),
    ("https://gitlab.com/", 5),
    ("https://bitbucket.org/", 5),
    ("https://codeberg.org/", 2),
    ("", 2),
)
_OWNERS: Final = [
    "jazzband",
    "encode",
    "divio",
    "torchbox",
    "wagtail",
    "adamchainz",
    "carltongibson",
    "bennylope",
    "codingjoe",
    "yourlabs",
    "mixxorz",
    "jpadilla",
    "tfranzel",
    "feincms",
    "vintasoftware",
    "maxmind",
    "aljosa",
    "sbdchd",
    "spookylukey",
    "kkm",
    "jschneier",
    "mgrouchy",
    "arneb",
    "django-otp",
    "ariks",
    "someone",
]
_SENTENCES: Final = (
    "A reusable Django app for {t}.",
    "{T} for Django, done right.",
    "Simple {t} integration for Django projects.",
    "Django {t} with batteries included: admin, templates and a REST API.",
    "Pluggable {t} support for the Django admin :sparkles:",
    "Fast, tested {t} helpers for Django and Django REST framework.",
    "Yet another {t} package. Unmaintained, see the fork.",
    "Adds {t} to your models in two lines of code \U0001f680.",
    "Gestion de {t} pour Django \u2014 caf\u00e9, na\u00efve, Z\u00fcrich.",
    "{T} \u2014 Django \u30a2\u30d7\u30ea (\u65e5\u672c\u8a9e) for {t}.",
)
_GRID_WORDS: Final = [
    "Authentication",
    "Two-Factor",
    "Authentication",
    "Permissions",
    "Session",
    "Security",
    "API",
    "Frameworks",
    "REST",
    "Framework",
    "Extensions",
    "Admin",
    "Interface",
    "Admin",
    "Tools",
    "Asset",
    "Managers",
    "Background",
    "Tasks",
    "Caching",
    "Celery",
    "CMS",
    "Comments",
    "Configuration",
    "Content",
    "Security",
    "Policy",
    "CSV",
    "Exports",
    "Database",
    "Migrations",
    "Date",
    "Time",
    "Debugging",
    "Deployment",
    "Email",
    "Emoji",
    "Support",
    "Feature",
    "Flags",
    "File",
    "Storage",
    "Forms",
    "Full-Text",
    "Search",
    "Geolocation",
    "GraphQL",
    "Healthchecks",
    "Image",
    "Handling",
    "Internationalization",
    "Logging",
    "Maps",
    "Markdown",
    "Model",
    "Auditing",
    "Monitoring",
    "Multi-Tenancy",
    "Notifications",
    "Payments",
    "Performance",
    "Rate",
    "Limiting",
    "Rich",
    "Text",
    "Editors",
    "Search",
    "Sitemaps",
    "SEO",
    "Social",
    "Auth",
    "Static",
    "Files",
    "Tagging",
    "Testing",
    "Themes",
    "Tree",
    "Structures",
    "Versioning",
    "Workflow",
]
_CATEGORIES: Final = (
    (
        "App",
        "apps",
        "Small components used to build projects. An app is anything that is installed "
        "by placing it in settings.INSTALLED_APPS.",
        "Apps",
        True,
    ),
    (
        "Framework",
        "frameworks",
        "Large efforts that combine many python modules or apps. Examples include Django, "
        "Pinax, and Satchmo. Most CMS falls into this category.",
        "Frameworks",
        True,
    ),
    (
        "Project",
        "projects",
        "Individual projects such as blogs, CMSs, or e-commerce sites that are deployed as "
        "a whole, not installed as a dependency.",
        "Projects",
        False,
    ),
    ("Other", "other", "", "", False),
)
_LOGIN_PARTS: Final = [
    "alex",
    "anna",
    "ben",
    "carl",
    "dana",
    "eli",
    "fay",
    "gus",
    "hana",
    "ivan",
    "jo",
    "kai",
    "lea",
    "max",
    "nia",
    "olu",
    "pia",
    "quinn",
    "rui",
    "sam",
    "tia",
    "uma",
    "vic",
    "wen",
    "xia",
    "yan",
    "zoe",
    "ko-ichi",
    "jörg",
    "renée",
    "zoë",
    "mats",
    "felix",
    "clokep",
    "pzrq",
    "ulgens",
    "hylje",
    "grutt",
    "acatton",
    "spooky",
    "dekkers",
    "kingbuzz",
    "bluetech",
]
_BOTS: Final = ("dependabot[bot]", "pre-commit-ci[bot]", "renovate[bot]", "github-actions[bot]")


class Catalogue(TypedDict):
    """API JSON of every resource, newest id first, links on :data:`BASE_URL` (or ``base_url``)."""

    packages: list[dict[str, Any]]
    grids: list[dict[str, Any]]
    categories: list[dict[str, Any]]


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _stamp(moment: datetime, *, micro: bool) -> str:
    """A datetime as the site renders it: its UTC offset, microseconds only if non-zero."""
    local = moment.astimezone(SITE_TZ)
    if not micro:
        local = local.replace(microsecond=0)
    return local.isoformat()


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(0.0, (end - start).total_seconds())
    seconds = rng.random() * span
    return start + timedelta(seconds=seconds, microseconds=rng.randrange(1_000_000))


def _ids(rng: random.Random, count: int, spread: float) -> list[int]:
    """``count`` distinct positive ids with gaps (deleted rows), ascending."""
    top = max(count, int(count * spread))
    return sorted(rng.sample(range(1, top + 1), count))


def _login_pool(rng: random.Random, size: int) -> list[str]:
    logins: list[str] = list(_BOTS)
    seen = set(logins)
    for n in itertools.count():
        if len(logins) >= size:
            break
        a, b = rng.choice(_LOGIN_PARTS), rng.choice(_LOGIN_PARTS)
        style = n % 4
        if style == 0:
            login = f"{a}{b}"
        elif style == 1:
            login = f"{a}-{b}"
        elif style == 2:
            login = f"{a}{rng.randrange(1, 100)}"
        else:
            login = f"{a.capitalize()}{b.capitalize()}"
        if login not in seen:
            seen.add(login)
            logins.append(login)
    return logins[:size]


class _Zipf:
    """Draw indexes ``0..n-1`` with probability proportional to ``1 / (i + 1) ** s``."""

    def __init__(self, n: int, s: float) -> None:
        weights = [1.0 / (i + 1) ** s for i in range(n)]
        self.cumulative = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random) -> int:
        x = rng.random() * self.cumulative[-1]
        return min(bisect.bisect_left(self.cumulative, x), len(self.cumulative) - 1)


def _grid_count(rng: random.Random) -> int:
    """Grids one package belongs to: most none or one, a few up to ten."""
    x = rng.random()
    for k, cumulative in enumerate((0.40, 0.72, 0.86, 0.93, 0.96, 0.975, 0.985, 0.992, 0.996)):
        if x < cumulative:
            return k
    return 9 if x < 0.998 else 10


def _participant_count(rng: random.Random, active: bool) -> int:
    if rng.random() < 0.08:
        return 0
    mean = 10.0 if active else 3.0
    return min(120, max(1, int(rng.expovariate(1 / mean)) + 1))


def _commits(rng: random.Random, active: bool, fetched: bool) -> list[int]:
    if not fetched or rng.random() < 0.02:
        return []
    if not active:
        return [0] * 52
    density = rng.uniform(0.05, 0.6)
    return [
        min(60, int(rng.expovariate(0.25)) + 1) if rng.random() < density else 0 for _ in range(52)
    ]


def _name(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A (title, slug) pair: slugs are unique, titles mostly equal to them."""
    for attempt in itertools.count():
        prefix = _weighted(rng, _PREFIXES)
        topic = rng.choice(_TOPICS)
        suffix = _weighted(rng, _SUFFIXES)
        if attempt > 3:
            suffix += f"-{attempt}"
        if prefix == "Django ":
            title = "Django " + " ".join(w.capitalize() for w in (topic + suffix).split("-") if w)
            slug = "django-" + topic + suffix
        else:
            title = prefix + topic + suffix
            slug = title.replace("_", "-").lower()
        if slug not in taken:
            taken.add(slug)
            return title, slug
    raise AssertionError("unreachable")  # pragma: no cover


def generate(
    packages: int = 5_400,
    grids: int = 380,
    categories: int = 3,
    *,
    seed: int = DEFAULT_SEED,
    base_url: str = BASE_URL,
    logins: int = LOGIN_POOL,
) -> Catalogue:
    """A seeded catalogue of ``packages`` / ``grids`` / ``categories`` as API JSON.

    Links point under ``base_url``. The same arguments always give the same data.
    """
    if packages < 0 or grids < 0 or categories < 1:
        raise ValueError("need packages >= 0, grids >= 0 and categories >= 1")
    rng = random.Random(seed)

    # -- categories --------------------------------------------------------------------
    category_rows: list[dict[str, Any]] = []
    for index in range(categories):
        if index < len(_CATEGORIES):
            title, slug, description, plural, show_pypi = _CATEGORIES[index]
        else:
            title, slug = f"Kind {index + 1}", f"kind-{index + 1}"
            description, plural, show_pypi = "", f"Kinds {index + 1}", index % 2 == 0
        created = _FIRST + timedelta(seconds=40 * index, microseconds=rng.randrange(2) * 250_000)
        category_rows.append(
            {
                "id": index + 1,
                "title": title,
                "slug": slug,
                "description": description,
                "title_plural": plural,
                "show_pypi": show_pypi,
                "created": _stamp(created, micro=True),
                "modified": _stamp(_between(rng, created, _LAST), micro=True),
            }
        )
    # Most packages are apps; the rest share the other categories.
    category_weights = [78.0] + [22.0 / max(1, categories - 1)] * (categories - 1)

    # -- grids (structure first, packages filled below) ------------------------------
    grid_ids = _ids(rng, grids, 1.13)
    grid_meta: list[dict[str, Any]] = []
    grid_slugs: set[str] = set()
    for gid in grid_ids:
        for attempt in itertools.count():
            words = rng.sample(_GRID_WORDS, 1 + (rng.random() < 0.3))
            title = " ".join(words) + (f" {attempt + 1}" if attempt else "")
            slug = "-".join(title.lower().split())
            if slug not in grid_slugs:
                grid_slugs.add(slug)
                break
        fraction = gid / (grid_ids[-1] if grid_ids else 1)
        created = _FIRST + (_LAST - _FIRST) * fraction * 0.97
        created += timedelta(microseconds=rng.randrange(1_000_000))
        roll = rng.random()
        description = (
            ""
            if roll < 0.12
            else f"This is a list of {title} packages for Django."
            if roll < 0.8
            else f"Compare {title.lower()} packages: features, activity and "
            f"documentation \u2014 see https://docs.djangoproject.com/ for the basics."
        )
        grid_meta.append(
            {
                "id": gid,
                "title": title,
                "slug": slug,
                "description": description,
                "is_locked": rng.random() < 0.1,
                "header": rng.random() < 0.25,
                "created": created,
            }
        )
    grid_popularity = _Zipf(len(grid_meta), 0.9) if grid_meta else None
    popularity_order = list(range(len(grid_meta)))
    rng.shuffle(popularity_order)  # popular grids are spread over all ids

    # -- packages ----------------------------------------------------------------------
    pool = _login_pool(rng, logins)
    login_zipf = _Zipf(len(pool), 1.05)
    package_ids = _ids(rng, packages, 1.14)
    members: list[list[int]] = [[] for _ in grid_meta]
    taken: set[str] = set()
    package_rows: list[dict[str, Any]] = []
    top_id = package_ids[-1] if package_ids else 1
    for pid in package_ids:
        title, slug = _name(rng, taken)
        created = (
            _FIRST
            + (_LAST - _FIRST) * (pid / top_id)
            + timedelta(microseconds=rng.randrange(1_000_000))
        )
        age_years = (_LAST - created).days / 365.0
        active = rng.random() < max(0.08, 0.6 - 0.05 * age_years)
        fetched = rng.random() > 0.02
        last_fetched = (
            _FETCH_DAY + timedelta(seconds=rng.randrange(8 * 86_400), microseconds=1)
            if fetched
            else None
        )
        if last_fetched is not None:
            last_fetched = last_fetched.replace(microsecond=rng.randrange(1_000_000))
        commits = _commits(rng, active, fetched)
        if rng.random() < 0.03:
            last_updated: datetime | None = None
        elif active:
            last_updated = _between(rng, _FETCH_DAY - timedelta(days=300), _FETCH_DAY)
        else:
            last_updated = _between(rng, created, max(created, _FETCH_DAY - timedelta(days=400)))
        modified = (last_fetched or created) + timedelta(
            microseconds=rng.randrange(100_000, 2_000_000)
        )
        host = _weighted(rng, _HOSTS)
        owner = rng.choice(_OWNERS)
        repo_url = f"{host}{owner}/{slug}" if host else ""
        released = rng.random() > 0.09
        pypi_version = (
            f"{rng.randrange(0, 7)}.{rng.randrange(0, 19)}.{rng.randrange(0, 10)}"
            if released
            else None
        )
        pypi_url = (
            ""
            if not released or rng.random() < 0.05
            else rng.choice(
                (
                    f"http://pypi.python.org/pypi/{slug}",
                    f"https://pypi.org/project/{slug}/",
                    slug,
                )
            )
        )
        doc_roll = rng.random()
        documentation_url = (
            None
            if doc_roll < 0.05
            else ""
            if doc_roll < 0.4
            else rng.choice(
                (
                    f"https://readthedocs.org/projects/{slug}/",
                    f"https://{slug}.readthedocs.io/en/latest/",
                    f"https://{slug}.readthedocs.io/",
                )
            )
        )
        topic = slug.split("-", 1)[-1].replace("-", " ")
        description = (
            ""
            if rng.random() < 0.1
            else rng.choice(_SENTENCES).format(t=topic, T=topic.capitalize())
        )
        stars = int(rng.paretovariate(1.1) * (8 if active else 3)) - 1
        watchers = min(stars, 40_000) if rng.random() > 0.04 else 0
        forks = min(int(watchers * rng.uniform(0.02, 0.35)), 9_000)
        participants: list[str] = []
        chosen: set[int] = set()
        for _ in range(_participant_count(rng, active)):
            index = login_zipf.draw(rng)
            if index not in chosen:
                chosen.add(index)
                participants.append(pool[index])
        grid_links: list[int] = []
        if grid_popularity is not None:
            want = _grid_count(rng)
            tries = 0
            while len(grid_links) < want and tries < 60:
                tries += 1
                g = popularity_order[grid_popularity.draw(rng)]
                if g in grid_links or len(members[g]) >= MAX_PACKAGES_PER_GRID:
                    continue
                grid_links.append(g)
                members[g].append(len(package_rows))
        category = rng.choices(range(1, categories + 1), weights=category_weights)[0]
        package_rows.append(
            {
                "category": f"{base_url}categories/{category}/",
                "grids": [f"{base_url}grids/{grid_meta[g]['id']}/" for g in grid_links],
                "id": pid,
                "title": title,
                "slug": slug,
                "last_updated": None if last_updated is None else _stamp(last_updated, micro=False),
                "last_fetched": None if last_fetched is None else _stamp(last_fetched, micro=True),
                "repo_url": repo_url,
                "pypi_version": pypi_version,
                "created": _stamp(created, micro=True),
                "modified": _stamp(modified, micro=True),
                "repo_forks": forks,
                "repo_description": description,
                "pypi_url": pypi_url,
                "documentation_url": documentation_url,
                "repo_watchers": watchers,
                "commits_over_52": commits,
                "participants": participants,
            }
        )

    grid_rows: list[dict[str, Any]] = []
    for meta, member_rows in zip(grid_meta, members, strict=True):
        listed = sorted((package_rows[i] for i in member_rows), key=lambda p: (p["title"], p["id"]))
        created = meta["created"]
        grid_rows.append(
            {
                "id": meta["id"],
                "title": meta["title"],
                "slug": meta["slug"],
                "description": meta["description"],
                "is_locked": meta["is_locked"],
                "packages": [f"{base_url}packages/{p['id']}/" for p in listed],
                "header": meta["header"],
                "created": _stamp(created, micro=True),
                "modified": _stamp(_between(rng, created, _LAST), micro=True),
            }
        )

    return Catalogue(
        packages=package_rows[::-1],
        grids=grid_rows[::-1],
        categories=category_rows[::-1],
    )


def file_lines(
    catalogue: Catalogue, *, base_url: str = BASE_URL, fetched_at: datetime = _FETCH_DAY
) -> list[str]:
    """The generated catalogue as the lines of a catalogue file (what `Catalog.save`
    writes), so benchmarks and tests read it through the SDK's own file format."""
    names = ("categories", "grids", "packages")
    header = {
        "format": "djangopackages-sdk-catalog",
        "version": 2,
        "base_url": base_url,
        "fetched_at": fetched_at.isoformat(),
        "counts": {name: len(catalogue[name]) for name in names},  # type: ignore[literal-required]
    }
    lines = [json.dumps(header)]
    for kind, name in zip(("category", "grid", "package"), names, strict=True):
        rows = catalogue[name]  # type: ignore[literal-required]
        lines.extend(json.dumps({"kind": kind, "data": row}) for row in rows)
    return lines


def as_catalog(
    catalogue: Catalogue, *, base_url: str = BASE_URL, fetched_at: datetime = _FETCH_DAY
) -> Catalog:
    """The generated catalogue as the SDK holds it (a `Catalog`), fetched at ``fetched_at``."""
    from djangopackages_sdk import Catalog

    return Catalog.read(file_lines(catalogue, base_url=base_url, fetched_at=fetched_at))


def summary(catalogue: Catalogue) -> dict[str, Any]:
    """A few statistics that show the catalogue is shaped like the live one."""
    rows = catalogue["packages"]
    n = max(1, len(rows))
    links = sum(len(p["grids"]) for p in rows)
    logins = [login for p in rows for login in p["participants"]]
    return {
        "packages": len(rows),
        "grids": len(catalogue["grids"]),
        "categories": len(catalogue["categories"]),
        "package_grid_links": links,
        "max_grids_per_package": max((len(p["grids"]) for p in rows), default=0),
        "max_packages_per_grid": max((len(g["packages"]) for g in catalogue["grids"]), default=0),
        "inactive_share": round(
            sum(1 for p in rows if p["commits_over_52"] and not any(p["commits_over_52"])) / n, 3
        ),
        "participant_mentions": len(logins),
        "distinct_logins": len(set(logins)),
        "null_last_updated": sum(1 for p in rows if p["last_updated"] is None),
        "null_documentation_url": sum(1 for p in rows if p["documentation_url"] is None),
        "empty_documentation_url": sum(1 for p in rows if p["documentation_url"] == ""),
        "naive_relation_requests": n + links if rows else 0,
    }


if __name__ == "__main__":
    print(json.dumps(summary(generate()), indent=2))
