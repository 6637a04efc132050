"""`audit`: requirements matched to packages, staleness and alternatives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from djangopackages_sdk import DEFAULT_BASE_URL, AuditEntry, Catalog, Link, Package, audit
from djangopackages_sdk._audit import requirement_name
from djangopackages_sdk.testing import sample_categories, sample_grids, sample_packages

NOW = datetime(2026, 3, 1, tzinfo=UTC)
AUTH = 7  # the sample's "authentication" grid: django-otp and django-stronghold


def _link(collection: str, rid: int) -> Link[Any]:
    return Link(f"{DEFAULT_BASE_URL}{collection}/{rid}/", rid)


def _catalog() -> Catalog:
    """The sample, plus four packages in the authentication grid.

    allauth: active, most stars; oldauth: stale; axes: last commit unknown; otp-fork:
    claims django-otp's PyPI name (as a bare name) with few stars.
    """
    otp = next(p for p in sample_packages() if p.slug == "django-otp")
    active, stale = NOW - timedelta(days=30), NOW - timedelta(days=800)
    extra = [
        (2000, "django-allauth", "https://pypi.org/project/django-allauth/", 9000, active),
        (2001, "django-axes", "django-axes", 1500, None),
        (2002, "django-oldauth", "http://pypi.python.org/pypi/django-oldauth", 5000, stale),
        (2003, "django-otp-fork", "Django_OTP", 3, active),
        (2004, "django-knox", "https://pypi.org/project/django-knox/", 621, active),
    ]
    added = tuple(
        attrs.evolve(
            otp,
            id=rid,
            slug=slug,
            title=slug,
            pypi_url=pypi_url,
            repo_watchers=stars,
            last_updated=updated,
            grids=(_link("grids", AUTH),),
        )
        for rid, slug, pypi_url, stars, updated in extra
    )
    grids = tuple(
        attrs.evolve(g, packages=(*g.packages, *(_link("packages", p.id) for p in added)))
        if g.id == AUTH
        else g
        for g in sample_grids()
    )
    return Catalog(
        DEFAULT_BASE_URL, (*sample_packages(), *added), grids, sample_categories(), fetched_at=NOW
    )


def _slugs(packages: tuple[Package, ...]) -> list[str]:
    return [p.slug for p in packages]


def test_names_are_matched_by_pypi_name_and_audited() -> None:
    catalog = _catalog()
    entries = audit(["Django_OTP[qrcode]>=1.0", "django-stronghold", "requests"], catalog, NOW)
    otp, stronghold, requests = entries
    assert isinstance(otp, AuditEntry)
    assert otp.name == "Django_OTP"
    assert otp.package == catalog.package("django-otp")  # 621 stars beats the fork's 3
    assert otp.stale is False
    # Same grids, most stars first, never stale nor unknown, never itself.
    assert _slugs(otp.alternatives) == ["django-allauth", "django-knox", "django-otp-fork"]
    assert stronghold.package == catalog.package("django-stronghold")
    assert stronghold.stale is True  # last commit 2024-11-24
    assert "django-stronghold" not in _slugs(stronghold.alternatives)
    # Equal stars (621) are ordered by slug.
    assert _slugs(stronghold.alternatives) == [
        "django-allauth",
        "django-knox",
        "django-otp",
        "django-otp-fork",
    ]
    assert requests == AuditEntry("requests", None, None, ())


def test_every_pypi_url_form_matches() -> None:
    catalog = _catalog()
    names = ["django-allauth", "DJANGO.AXES", "django_oldauth"]
    found = [entry.package.slug if entry.package else None for entry in audit(names, catalog)]
    assert found == ["django-allauth", "django-axes", "django-oldauth"]
    axes = audit(["django-axes"], catalog, NOW)[0]
    assert axes.stale is None  # the last commit is unknown


def test_a_package_without_pypi_url_is_not_matched_by_its_slug() -> None:
    catalog = _catalog()
    otp = attrs.evolve(catalog.package("django-otp"), pypi_url="")
    fork = attrs.evolve(catalog.package("django-otp-fork"), pypi_url="")
    alone = attrs.evolve(catalog, packages=(otp, fork))
    assert audit(["django-otp"], alone, NOW)[0] == AuditEntry("django-otp", None, None, ())


def test_the_most_starred_claim_wins_then_the_lowest_id() -> None:
    catalog = _catalog()
    fork = catalog.package("django-otp-fork")
    twin = attrs.evolve(fork, id=1, repo_watchers=621)  # as many stars as django-otp
    crowded = attrs.evolve(catalog, packages=(*catalog.packages, twin))
    assert audit(["django-otp"], crowded, NOW)[0].package == twin
    richer = attrs.evolve(fork, repo_watchers=10_000)
    assert audit(["django-otp"], attrs.evolve(catalog, packages=(richer,)), NOW)[0].package == (
        richer
    )


def test_max_alternatives_and_now() -> None:
    catalog = _catalog()
    assert audit(["django-otp"], catalog, NOW, max_alternatives=1)[0].alternatives == (
        catalog.package("django-allauth"),
    )
    assert audit(["django-otp"], catalog, NOW, max_alternatives=0)[0].alternatives == ()
    later = audit(["django-otp"], catalog, NOW + timedelta(days=400))[0]
    assert later.stale is True
    assert later.alternatives == ()  # by then every other package is stale too
    with pytest.raises(ValueError, match="max_alternatives must not be negative"):
        audit([], catalog, max_alternatives=-1)
    with pytest.raises(TypeError, match="max_alternatives must be an int"):
        audit([], catalog, max_alternatives=True)
    with pytest.raises(TypeError, match="now must be a datetime"):
        audit([], catalog, "2026")  # type: ignore[arg-type]
    assert audit(["django-otp"], catalog)[0].stale is not None  # now defaults to the clock


def test_a_name_given_twice_is_audited_once() -> None:
    entries = audit(["django-otp", "Django_OTP==1", "requests", "requests"], _catalog(), NOW)
    assert [e.name for e in entries] == ["django-otp", "requests"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("django-otp", "django-otp"),
        ("Django_OTP[qrcode,yubikey] >= 1.0, < 2 ; python_version >= '3.11'", "Django_OTP"),
        ("django.contrib-x~=1.0", "django.contrib-x"),
        ("name (>=1.0)", "name"),
        ("pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee", "pip"),
        ("  Django  ", "Django"),
        ("https://example.com/django-otp.zip", None),
        ("./vendored/django-otp", None),
        ("git+https://github.com/django-otp/django-otp#egg=django-otp", None),
        ("-django", None),
        ("", None),
    ],
)
def test_requirement_name(text: str, name: str | None) -> None:
    assert requirement_name(text) == name


REQUIREMENTS = r"""
# Production requirements
--index-url https://pypi.org/simple
--extra-index-url=https://example.com/simple
-c constraints.txt

Django>=4.2,<5.0  # the framework
django-otp[qrcode]==1.5.0 \
    --hash=sha256:2c1f7a7b8e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f \
    --hash=sha256:3d2e8b9c0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d
django-stronghold ; python_version >= "3.8"
-e git+https://github.com/pennersr/django-allauth.git@main#egg=django-allauth
-e ./local/checkout
https://files.example.com/packages/django_axes-6.0.0-py3-none-any.whl
https://example.com/archive.zip
./vendored/thing
requests==2.31.0 --config-settings=x=y

-r dev.txt
"""


def test_a_realistic_requirements_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    (tmp_path / "dev.txt").write_text(
        "-r requirements.txt  # a cycle, followed once\n"
        "pytest-django\ndjango-knox@https://example.com/knox.tar.gz\n",
        encoding="utf-8",
    )
    entries = audit(tmp_path / "requirements.txt", _catalog(), NOW)
    assert [e.name for e in entries] == [
        "Django",
        "django-otp",
        "django-stronghold",
        "django-allauth",
        "django_axes",
        "requests",
        "pytest-django",
        "django-knox",
    ]
    found = {e.name: e.package.slug for e in entries if e.package}
    assert found == {
        "django-otp": "django-otp",
        "django-stronghold": "django-stronghold",
        "django-allauth": "django-allauth",
        "django_axes": "django-axes",
        "django-knox": "django-knox",
    }
    # Read from the included file, the cycle leads back once to the first file.
    from_dev = [e.name for e in audit(str(tmp_path / "dev.txt"), _catalog(), NOW)]
    assert from_dev[0] == "Django"
    assert from_dev[-2:] == ["pytest-django", "django-knox"]


def test_an_include_that_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("django-otp\n--requirement=missing.txt\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="includes a missing file") as caught:
        audit(path, _catalog())
    assert caught.value.filename == str(tmp_path / "missing.txt")


def test_a_trailing_continuation_and_comment_only_lines(tmp_path: Path) -> None:
    path = tmp_path / "req.in"
    path.write_text("#only comments\n   # indented\ndjango-otp \\\n", encoding="utf-8")
    assert [e.name for e in audit(path, _catalog())] == ["django-otp"]


PYPROJECT = """
[project]
name = "mysite"
dependencies = [
    "Django>=4.2",
    "django-otp[qrcode]>=1.0; python_version >= '3.11'",
]

[project.optional-dependencies]
auth = ["django-allauth", "django-otp"]

[dependency-groups]
dev = ["pytest-django", {include-group = "lint"}]
lint = ["ruff"]

[tool.poetry.dependencies]
python = "^3.11"
django-stronghold = "^0.4"

[tool.poetry.group.test.dependencies]
django-axes = {version = "^6", extras = ["ipware"]}

[tool.poetry.dev-dependencies]
django-knox = "*"
"""


def test_a_pyproject(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT, encoding="utf-8")
    entries = audit(path, _catalog(), NOW)
    assert [e.name for e in entries] == [
        "Django",
        "django-otp",
        "django-allauth",
        "pytest-django",
        "ruff",
        "django-stronghold",
        "django-knox",
        "django-axes",
    ]
    assert [e.package is not None for e in entries] == [False, True, True] + [False] * 2 + [
        True
    ] * 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[project\n", "is not valid TOML"),
        ("project = 3\n", "project must be a table"),
        ("[project]\ndependencies = 'django'\n", "project.dependencies must be a list of str"),
        ("[project]\ndependencies = [3]\n", "project.dependencies must be a list of str"),
        ("[project]\ndependencies = ['./x']\n", r"project.dependencies holds '\./x', not PEP 508"),
        (
            "[project.optional-dependencies]\nx = 'a'\n",
            "project.optional-dependencies.x must be a list",
        ),
        ("[dependency-groups]\ndev = 'a'\n", "dependency-groups.dev must be a list"),
    ],
)
def test_a_bad_pyproject(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as caught:
        audit(path, _catalog())
    assert str(path) in str(caught.value)
    assert str(caught.value).startswith("requirements: ")


def test_bad_input(tmp_path: Path) -> None:
    catalog = _catalog()
    with pytest.raises(
        FileNotFoundError, match=r"pass requirement names as a list: \['django-otp'\]"
    ):
        audit("django-otp", catalog)
    with pytest.raises(FileNotFoundError, match="requirements: no such file") as caught:
        audit(tmp_path / "nope.txt", catalog)
    assert caught.value.filename == str(tmp_path / "nope.txt")
    assert "pass requirement names" not in str(caught.value)
    latin = tmp_path / "requirements.txt"
    latin.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        audit(latin, catalog)
    with pytest.raises(TypeError, match=r"requirements must be an iterable .* not int"):
        audit(3, catalog)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not bytes"):
        audit(b"django", catalog)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"requirements\[1\] must be a str, not int"):
        audit(["django", 3], catalog)  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"requirements\[0\] is not a PEP 508 requirement"):
        audit(["https://example.com/x.zip"], catalog)
    with pytest.raises(TypeError, match="catalog must be a Catalog, not dict"):
        audit([], {})  # type: ignore[arg-type]
    assert audit(iter(()), catalog) == ()
