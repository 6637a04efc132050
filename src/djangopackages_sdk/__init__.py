"""djangopackages-sdk: a typed Python SDK (sync and async) for the Django Packages API v4.

>>> from djangopackages_sdk import Client
>>> with Client() as dp:                       # doctest: +SKIP
...     otp = dp.packages.get("django-otp")
...     category = dp.resolve(otp.category)
"""

from ._catalog import Catalog
from ._client import AsyncClient, AsyncPageIterator, AsyncResource, Client, PageIterator, Resource
from ._contract import ContractReport, Finding, acheck_contract, check_contract
from ._core import RetryEvent, default_user_agent
from ._exceptions import (
    DeadlineExceededError,
    DjangoPackagesError,
    ForeignURLError,
    HTTPStatusError,
    IncompleteCrawlError,
    NotFoundError,
    NotJSONError,
    PaginationError,
    PayloadError,
    RateLimitedError,
    TransportError,
)
from ._links import DEFAULT_BASE_URL
from ._models import Category, Grid, Link, Package, SearchResult
from ._pagination import Checkpoint, Page, SkippedRows
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncClient",
    "AsyncPageIterator",
    "AsyncResource",
    "Catalog",
    "Category",
    "Checkpoint",
    "Client",
    "ContractReport",
    "DeadlineExceededError",
    "DjangoPackagesError",
    "Finding",
    "ForeignURLError",
    "Grid",
    "HTTPStatusError",
    "IncompleteCrawlError",
    "Link",
    "NotFoundError",
    "NotJSONError",
    "Package",
    "Page",
    "PageIterator",
    "PaginationError",
    "PayloadError",
    "RateLimitedError",
    "Resource",
    "RetryEvent",
    "SearchResult",
    "SkippedRows",
    "TransportError",
    "__version__",
    "acheck_contract",
    "check_contract",
    "default_user_agent",
]
