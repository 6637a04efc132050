"""``Client`` and ``AsyncClient`` (and their resources and page iterators) expose the
same surface: the same public names with the same parameters, the async ones awaited."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

from djangopackages_sdk import (
    AsyncClient,
    AsyncCollection,
    AsyncPageIterator,
    Client,
    Collection,
    PageIterator,
)

# Sync name -> async name where the two must differ.
RENAMED = {
    "close": "aclose",
    "__enter__": "__aenter__",
    "__exit__": "__aexit__",
    "__iter__": "__aiter__",
}
PAIRS = [(Client, AsyncClient), (Collection, AsyncCollection), (PageIterator, AsyncPageIterator)]
IDS = [sync.__name__ for sync, _ in PAIRS]


def _public(cls: type) -> set[str]:
    names = {name for name in dir(cls) if not name.startswith("_")}
    dunders = {name for name in (*RENAMED, *RENAMED.values()) if hasattr(cls, name)}
    return names | dunders


def _normalise(annotation: Any) -> str:
    """An annotation with the async spelling of types mapped to the sync one."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    text = text.replace("httpx.AsyncClient", "httpx.Client")
    return re.sub(r"\bAsync(?=[A-Z])", "", text)


def _shape(function: Callable[..., Any]) -> list[tuple[str, Any, Any, str]]:
    signature = inspect.signature(function)
    return [
        (p.name, p.kind, p.default, _normalise(p.annotation)) for p in signature.parameters.values()
    ] + [("return", None, None, _normalise(signature.return_annotation))]


@pytest.mark.parametrize(("sync", "asynchronous"), PAIRS, ids=IDS)
def test_same_public_names(sync: type, asynchronous: type) -> None:
    assert {RENAMED.get(name, name) for name in _public(sync)} == _public(asynchronous)


@pytest.mark.parametrize(("sync", "asynchronous"), PAIRS, ids=IDS)
def test_same_signatures(sync: type, asynchronous: type) -> None:
    for name in sorted(_public(sync)):
        sync_member = inspect.getattr_static(sync, name)
        async_member = inspect.getattr_static(asynchronous, RENAMED.get(name, name))
        if isinstance(sync_member, property):
            assert isinstance(async_member, property), name
            continue
        assert callable(sync_member), name
        assert _shape(sync_member) == _shape(async_member), name


def test_client_constructors_match() -> None:
    assert _shape(Client.__init__) == _shape(AsyncClient.__init__)
    sync_http = inspect.signature(Client.__init__).parameters["http_client"].annotation
    async_http = inspect.signature(AsyncClient.__init__).parameters["http_client"].annotation
    assert "httpx.Client" in str(sync_http)
    assert "httpx.AsyncClient" in str(async_http)


@pytest.mark.parametrize(
    "name", ["search", "resolve", "resolve_many", "catalog", "aclose", "__aenter__", "__aexit__"]
)
def test_async_client_methods_are_coroutines(name: str) -> None:
    assert inspect.iscoroutinefunction(getattr(AsyncClient, name))
    sync_name = {v: k for k, v in RENAMED.items()}.get(name, name)
    assert not inspect.iscoroutinefunction(getattr(Client, sync_name))


def test_async_resource_methods() -> None:
    assert inspect.iscoroutinefunction(AsyncCollection.get)
    assert not inspect.iscoroutinefunction(Collection.get)
    # list() is a plain method returning an async iterator, usable with `async for`.
    assert not inspect.iscoroutinefunction(AsyncCollection.list)
    assert "AsyncPageIterator" in str(inspect.signature(AsyncCollection.list).return_annotation)
    assert "PageIterator" in str(inspect.signature(Collection.list).return_annotation)


def test_async_page_iterator_is_an_async_iterator() -> None:
    assert inspect.isasyncgenfunction(AsyncPageIterator.__aiter__)
    assert inspect.isgeneratorfunction(PageIterator.__iter__)
    assert not hasattr(AsyncPageIterator, "__iter__")
    assert not hasattr(PageIterator, "__aiter__")


async def test_live_objects_have_the_same_surface() -> None:
    async with AsyncClient() as aclient:
        with Client() as client:
            for collection in ("packages", "grids", "categories"):
                sync_resource = getattr(client, collection)
                async_resource = getattr(aclient, collection)
                assert isinstance(sync_resource, Collection)
                assert isinstance(async_resource, AsyncCollection)
                sync_pages = sync_resource.list()
                async_pages = async_resource.list()
                assert isinstance(sync_pages, PageIterator)
                assert isinstance(async_pages, AsyncPageIterator)
                assert hasattr(async_pages.pages(), "__anext__")
                assert hasattr(sync_pages.pages(), "__next__")
