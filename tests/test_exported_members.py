"""The package root's ``__all__``: sorted, complete, importable and documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from types import ModuleType

import djangopackages_sdk
from djangopackages_sdk import DjangoPackagesError

# Names a private submodule lists in its ``__all__`` that are deliberately not
# part of the root namespace, with the reason.
INTERNAL = {
    "_convert.Converter": "the converter is an implementation detail",
    "_convert.get_converter": "the converter is an implementation detail",
    "_models.ResourceT": "a type variable for the SDK's own annotations",
    "_models.CatalogView": "the protocol the views beside the models type a Catalog with",
    "_diff.diff_catalogs": "reached as Catalog.diff",
}
# Private modules whose ``__all__`` names what they offer the modules above them
# (the engine, the registry, the models' derived facts), none of it meant for users.
ENGINE = {
    "_accessors",
    "_async_io",
    "_cards",
    "_codegen",
    "_config",
    "_crawl",
    "_datetimes",
    "_diff_json",
    "_driver",
    "_files",
    "_guard",
    "_health",
    "_history_store",
    "_html",
    "_identity",
    "_operations",
    "_overviews",
    "_protocol",
    "_registry",
    "_relations",
    "_request",
    "_slices",
    "_sync_io",
    "_watch",
    "_wire",
    "_words",
}


def _isort_key(name: str) -> tuple[int, str]:
    """isort's order for ``__all__``: CONSTANTS, then Classes, then the rest."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _private_modules() -> list[ModuleType]:
    names = [
        info.name
        for info in pkgutil.iter_modules(djangopackages_sdk.__path__)
        if info.name.startswith("_")
    ]
    return [importlib.import_module(f"djangopackages_sdk.{name}") for name in sorted(names)]


def test_all_is_sorted_and_unique() -> None:
    exported = djangopackages_sdk.__all__
    assert exported == sorted(exported, key=_isort_key)
    assert len(set(exported)) == len(exported)


def test_all_is_complete() -> None:
    """Every public name of a private submodule is exported (test helpers via ``testing``)."""
    testing = importlib.import_module("djangopackages_sdk.testing")
    exported = set(djangopackages_sdk.__all__) | set(testing.__all__)
    for module in _private_modules():
        short = module.__name__.rsplit(".", 1)[-1]
        if short in ENGINE:
            continue
        for name in getattr(module, "__all__", ()):
            if f"{short}.{name}" in INTERNAL:
                continue
            assert name in exported, f"{module.__name__}.{name} is public but not exported"


def test_contract_check_is_exported() -> None:
    contract = importlib.import_module("djangopackages_sdk._contract")
    assert set(contract.__all__) <= set(djangopackages_sdk.__all__)
    assert djangopackages_sdk.check_contract is contract.check_contract


def test_live_server_is_exported_from_testing() -> None:
    testing = importlib.import_module("djangopackages_sdk.testing")
    for name in ("Fault", "Hit", "LiveServer"):
        assert name in testing.__all__
        assert getattr(testing, name).__module__.startswith("djangopackages_sdk.testing.")


def test_testing_private_modules_export_through_testing() -> None:
    """Every public name of the test kit's private modules is in ``testing.__all__``."""
    testing = importlib.import_module("djangopackages_sdk.testing")
    loaded = [
        module
        for name, module in sys.modules.items()
        if name.startswith("djangopackages_sdk.testing._")
    ]
    assert loaded
    for module in loaded:
        for name in getattr(module, "__all__", ()):
            assert name in testing.__all__, f"{module.__name__}.{name} is not exported"


def test_every_error_class_is_exported() -> None:
    exported = set(djangopackages_sdk.__all__)
    seen: set[type] = set()
    stack: list[type] = [DjangoPackagesError]
    while stack:
        cls = stack.pop()
        seen.add(cls)
        stack.extend(cls.__subclasses__())
    for cls in seen:
        if cls.__module__.startswith("djangopackages_sdk."):
            assert cls.__name__ in exported


def test_nothing_private_is_exported() -> None:
    for name in djangopackages_sdk.__all__:
        assert not name.startswith("_") or name == "__version__"


def test_every_name_is_importable_and_from_this_package() -> None:
    namespace: dict[str, object] = {}
    exec("from djangopackages_sdk import *", namespace)
    for name in djangopackages_sdk.__all__:
        value = getattr(djangopackages_sdk, name)
        assert namespace[name] is value
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("djangopackages_sdk"), name
            # Exposed under its own name, not an alias.
            assert value.__name__ == name


def _undocumented(cls: type) -> list[str]:
    missing = []
    for attribute, member in vars(cls).items():
        if attribute.startswith("_"):
            continue
        target = member.fget if isinstance(member, property) else member
        if isinstance(target, classmethod | staticmethod):
            target = target.__func__
        if inspect.isfunction(target) and not (target.__doc__ or "").strip():
            missing.append(f"{cls.__name__}.{attribute}")
    return missing


def test_every_name_is_documented() -> None:
    for name in djangopackages_sdk.__all__:
        value = getattr(djangopackages_sdk, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"
        if inspect.isclass(value):
            assert _undocumented(value) == []
    assert (djangopackages_sdk.__doc__ or "").strip()


def test_version() -> None:
    assert djangopackages_sdk.__version__ == "0.1.0"
    assert isinstance(djangopackages_sdk.DEFAULT_BASE_URL, str)


def test_testing_module_is_importable() -> None:
    testing = importlib.import_module("djangopackages_sdk.testing")
    for name in testing.__all__:
        assert hasattr(testing, name)
