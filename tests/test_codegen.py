"""The converter's generated fast path: registered with linecache, so tracebacks show it."""

from __future__ import annotations

import linecache
import traceback

import pytest

from djangopackages_sdk import Category, Package
from djangopackages_sdk._convert import get_converter


@pytest.mark.parametrize("strict", [False, True])
def test_a_traceback_through_the_fast_path_shows_its_source(strict: bool) -> None:
    converter = get_converter(strict)
    fast = converter._fast[Package]
    with pytest.raises(KeyError) as caught:
        fast({})  # reading the fields fails: 'category' is missing
    text = "".join(traceback.format_exception(caught.value))
    assert "= fields(d)" in text
    filename = fast.__code__.co_filename
    assert filename.startswith("<djangopackages_sdk fast structure Package")
    assert "def structure_fast(d):" in linecache.getline(filename, 1)


def test_each_model_and_strictness_has_its_own_source_name() -> None:
    names = {
        get_converter(strict)._fast[model].__code__.co_filename
        for strict in (False, True)
        for model in (Package, Category)
    }
    assert len(names) == 4


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("odd", [True, 1.0])
def test_a_cached_commit_vector_does_not_let_a_non_integer_through(
    strict: bool, odd: object
) -> None:
    # (1, True) == (1, 1) and hashes alike: a cache hit must not skip the type check
    # the detailed path makes, so both paths reject the row alike.
    from djangopackages_sdk.testing import load_sample_data

    row = dict(load_sample_data()["packages"][0])
    converter = get_converter(strict)
    good, _ = converter.structure_rows([dict(row, commits_over_52=[1] * 52)], Package)
    assert good[0] is not None
    rows, errors = converter.structure_rows([dict(row, commits_over_52=[odd] * 52)], Package)
    assert rows == [None]
    assert [index for index, _ in errors] == [0]
    assert errors[0][1].path == "$[0].commits_over_52[0]"
