"""djangopackages-sdk: a typed Python SDK (sync and async) for the Django Packages API v4.

```python
from djangopackages_sdk import Client

with Client() as dp:
    otp = dp.packages.get("django-otp")
    category = dp.resolve(otp.category)
```

The public names load on first use (PEP 562): ``import djangopackages_sdk`` (and so
the command line's ``--version`` and ``--help``) imports neither httpx nor the
clients until a name that needs them is asked for.
"""

from __future__ import annotations

from ._version import __version__

# Not ``typing.TYPE_CHECKING``: importing typing would cost the command line's start-up
# more than everything else here (type checkers read any ``TYPE_CHECKING`` as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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

# Where each public name lives: the one table to extend with a new name (along with
# the ``TYPE_CHECKING`` imports above and ``__all__``; tests check all three agree).
_LAZY: dict[str, str] = {
    "AsyncClient": "._async",
    "AsyncCollection": "._async",
    "AsyncPageIterator": "._async",
    "Catalog": "._catalog",
    "RetryEvent": "._config",
    "default_user_agent": "._config",
    "ContractReport": "._contract",
    "Finding": "._contract",
    "acheck_contract": "._contract",
    "check_contract": "._contract",
    "BaseURLError": "._exceptions",
    "DeadlineExceededError": "._exceptions",
    "DjangoPackagesError": "._exceptions",
    "ForeignURLError": "._exceptions",
    "HTTPStatusError": "._exceptions",
    "IncompleteCrawlError": "._exceptions",
    "NotFoundError": "._exceptions",
    "NotJSONError": "._exceptions",
    "PaginationError": "._exceptions",
    "PayloadError": "._exceptions",
    "RateLimitedError": "._exceptions",
    "ResponseTooLargeError": "._exceptions",
    "SkippedRows": "._exceptions",
    "TransportError": "._exceptions",
    "DEFAULT_BASE_URL": "._links",
    "Category": "._models",
    "CollectionName": "._models",
    "Grid": "._models",
    "Link": "._models",
    "Package": "._models",
    "Resource": "._models",
    "SearchResult": "._models",
    "Checkpoint": "._pages",
    "Page": "._pages",
    "Client": "._sync",
    "Collection": "._sync",
    "PageIterator": "._sync",
    "Comparison": "._compare",
    "ComparisonRow": "._compare",
    "to_pandas": "._tables",
    "to_polars": "._tables",
    "CatalogDiff": "._diff",
    "Change": "._diff",
    "ChangeKind": "._diff",
    "MembershipChange": "._diff",
    "AuditEntry": "._audit",
    "audit": "._audit",
    "History": "._history",
    "ResourceList": "._lists",
    "SearchResults": "._lists",
}

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

if not TYPE_CHECKING:  # pragma: no branch  (type checkers read the imports above instead)

    def __getattr__(name: str) -> Any:
        """Import a public name's module on first use, then keep the name here."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module, __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """The module's attributes, the public names not yet loaded included."""
    return sorted(set(globals()) | set(__all__))
