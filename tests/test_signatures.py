"""Both clients spell out every option: a signature, a docstring, no ``**kwargs``."""

from __future__ import annotations

import inspect

import pytest

from djangopackages_sdk import AsyncClient, Client

OPTIONS = [
    "http_client",
    "timeout",
    "headers",
    "user_agent",
    "max_retries",
    "retry_backoff",
    "retry_backoff_cap",
    "retry_after_cap",
    "on_retry",
    "max_in_flight",
    "requests_per_second",
    "strict",
    "bulk_rows_per_request",
    "max_age",
    "max_body_bytes",
    "attempt_timeout",
]


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_every_option_is_a_named_keyword_only_parameter(cls: type) -> None:
    parameters = inspect.signature(cls).parameters
    assert list(parameters) == ["base_url", *OPTIONS]
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    assert all(parameters[name].kind is inspect.Parameter.KEYWORD_ONLY for name in OPTIONS)


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_the_class_docstring_documents_every_parameter(cls: type) -> None:
    doc = inspect.getdoc(cls) or ""
    assert "Args:" in doc
    for name in ["base_url", *OPTIONS]:
        assert f"\n    {name}: " in doc, name


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_the_signatures_agree_between_the_clients(cls: type) -> None:
    sync = inspect.signature(Client).parameters
    other = inspect.signature(cls).parameters
    for name in ["base_url", *OPTIONS[1:]]:
        assert other[name].default == sync[name].default, name
