"""djangopackages-sdk: a typed Python SDK (sync and async) for the Django Packages API v4.

```python
from djangopackages_sdk import Client

with Client() as dp:
    otp = dp.packages.get("django-otp")
    category = dp.resolve(otp.category)
```
"""

from ._async import AsyncClient, AsyncCollection, AsyncPageIterator
from ._audit import AuditEntry, audit
from ._catalog import Catalog
from ._compare import Comparison, ComparisonRow
from ._config import RetryEvent, default_user_agent
from ._contract import ContractReport, Finding, acheck_contract, check_contract
from ._diff import CatalogDiff, Change, ChangeKind, MembershipChange
from ._exceptions import (
    BaseURLError,
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
    ResponseTooLargeError,
    SkippedRows,
    TransportError,
)
from ._history import History
from ._links import DEFAULT_BASE_URL
from ._lists import ResourceList, SearchResults
from ._models import Category, CollectionName, Grid, Link, Package, Resource, SearchResult
from ._pages import Checkpoint, Page
from ._sync import Client, Collection, PageIterator
from ._tables import to_pandas, to_polars
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncClient",
    "AsyncCollection",
    "AsyncPageIterator",
    "AuditEntry",
    "BaseURLError",
    "Catalog",
    "CatalogDiff",
    "Category",
    "Change",
    "ChangeKind",
    "Checkpoint",
    "Client",
    "Collection",
    "CollectionName",
    "Comparison",
    "ComparisonRow",
    "ContractReport",
    "DeadlineExceededError",
    "DjangoPackagesError",
    "Finding",
    "ForeignURLError",
    "Grid",
    "HTTPStatusError",
    "History",
    "IncompleteCrawlError",
    "Link",
    "MembershipChange",
    "NotFoundError",
    "NotJSONError",
    "Package",
    "Page",
    "PageIterator",
    "PaginationError",
    "PayloadError",
    "RateLimitedError",
    "Resource",
    "ResourceList",
    "ResponseTooLargeError",
    "RetryEvent",
    "SearchResult",
    "SearchResults",
    "SkippedRows",
    "TransportError",
    "__version__",
    "acheck_contract",
    "audit",
    "check_contract",
    "default_user_agent",
    "to_pandas",
    "to_polars",
]
