"""An in-memory fake of the Django Packages REST API v4, for tests and offline demos.

`FakeAPI` is a whole server in one pure function, `FakeAPI.handle`,
that behaves like the real service as recorded in ``tests/fixtures/real-api``
(byte-identical bodies for the recorded exchanges). Plug it into any httpx client::

    from djangopackages_sdk.testing import FakeAPI

    fake = FakeAPI.with_sample_data()
    with httpx.Client(transport=fake.transport) as http:
        http.get("https://djangopackages.org/api/v4/packages/django-otp/").json()
    assert len(fake.requests) == 1

What it reproduces:

* routes ``/``, ``/packages/``, ``/packages/{id|slug}/``, ``/grids/``,
  ``/grids/{id|slug}/``, ``/categories/``, ``/categories/{id}/`` and ``/search/``
  under the path prefix of ``base_url`` (``/api/v4/`` by default);
* lists ordered by ``-id`` with DRF ``LimitOffsetPagination`` (default 20, no
  maximum; invalid, zero or negative ``limit`` -> 20; invalid or negative
  ``offset`` -> 0) and absolute ``next``/``previous`` links rebuilt from the
  request URL exactly as DRF builds them (parameters sorted, ``offset`` dropped
  when it would be 0);
* hyperlinks rendered per request from its scheme (``X-Forwarded-Proto``
  honoured), ``Host`` and the API path prefix, with a request's ``?format=json``
  or ``?format=api`` copied into every hyperlink (the body stays JSON);
* a numeric detail key is always an id (``01867`` finds 1867); slugs are
  case-sensitive; categories are looked up by id only;
* the real errors: 404 ``{"detail":"No Package matches the given query."}``,
  404 ``{"detail":"Not found."}`` for a category slug or an unknown ``format``,
  405 for methods other than GET/HEAD/OPTIONS, 406 for an ``Accept`` that
  excludes JSON and HTML, 301 with a relative ``Location`` for a path without
  its trailing slash, and a 404 HTML page for an unknown route;
* HEAD answers the GET's headers (``Content-Length`` included) without a body;
* compact UTF-8 JSON with ``Content-Type: application/json``, ``Allow`` and
  ``Vary: Accept, Cookie`` headers.

Search is a documented approximation (the real ranking lives in a database
table the API does not expose); see `FakeAPI.search_results`.

Records are served exactly as given (datetimes keep their original strings and
unknown or odd fields pass through), so a test can also serve unusual data on
purpose. Relations are stored as ids and are not kept symmetric: adding a
package that lists grid 7 does not change grid 7's ``packages``.
"""

from ._drf import DEFAULT_LIMIT
from ._fake import FakeAPI
from ._faults import Fault, Hit
from ._live import LiveServer
from ._sample import load_sample_data, sample_categories, sample_grids, sample_packages
from ._search import SEARCH_CAP
from ._store import Kind

__all__ = [
    "DEFAULT_LIMIT",
    "SEARCH_CAP",
    "FakeAPI",
    "Fault",
    "Hit",
    "LiveServer",
    "Kind",
    "load_sample_data",
    "sample_categories",
    "sample_grids",
    "sample_packages",
]
