"""The package's layout, checked from the source with ``ast``: layers, cycles, sizes.

Layers, bottom up: the wire (models, registry, links, converter, errors, pages,
the catalogue value, and the pure views beside the models: derived facts, data
frames, the comparison, HTML display, diffs), the engine (configuration, the
protocol, the retrying request, the crawl, the identity map, the operations, the
watch and the two drivers) and the uses (the contract check, history, the audit,
the command line, the test kit, the public face). A module imports
only from its own layer or the ones below it, never in a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "djangopackages_sdk"
MAX_LINES = 450

WIRE = 0
ENGINE = 1
USES = 2
LAYER_OF_MODULE = {
    "_version": WIRE,
    "_health": WIRE,
    "_models": WIRE,
    "_registry": WIRE,
    "_exceptions": WIRE,
    "_links": WIRE,
    "_codegen": WIRE,
    "_datetimes": WIRE,
    "_wire": WIRE,
    "_convert": WIRE,
    "_pages": WIRE,
    "_files": WIRE,
    "_catalog": WIRE,
    "_html": WIRE,
    "_words": WIRE,
    "_cards": WIRE,
    "_overviews": WIRE,
    "_lists": WIRE,
    "_tables": WIRE,
    "_compare": WIRE,
    "_diff": WIRE,
    "_diff_json": WIRE,
    "_config": ENGINE,
    "_protocol": ENGINE,
    "_request": ENGINE,
    "_slices": ENGINE,
    "_crawl": ENGINE,
    "_identity": ENGINE,
    "_operations": ENGINE,
    "_relations": ENGINE,
    "_driver": ENGINE,
    "_sync_io": ENGINE,
    "_async_io": ENGINE,
    "_watch": ENGINE,
    "_accessors": ENGINE,
    "_guard": ENGINE,
    "_sync": ENGINE,
    "_async": ENGINE,
    "_contract": USES,
    "_history": USES,
    "_history_store": USES,
    "_audit": USES,
    "testing": USES,
    "__init__": USES,
    "_cli": USES,
    "__main__": USES,
}
"""Every top-level module or subpackage of the package, and its layer."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """Every module of the package that ``name`` imports, anywhere in its source
    (inside functions and ``if TYPE_CHECKING:`` blocks too)."""
    is_package = path.name == "__init__.py"
    package_parts = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            # ``from . import _models`` imports a module, not a name.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    modules = _modules()
    return {m for m in found if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    return {name: _imports(name, path) for name, path in _modules().items()}


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_graph_sees_the_imports() -> None:
    graph = _graph()
    assert "djangopackages_sdk._models" in graph["djangopackages_sdk._registry"]
    assert "djangopackages_sdk._protocol" in graph["djangopackages_sdk._operations"]


def test_no_import_cycle() -> None:
    assert _find_cycle(_graph()) is None


def test_the_cycle_finder_finds_cycles() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_has_a_layer() -> None:
    tops = {_top(name) for name in _modules()}
    assert tops == set(LAYER_OF_MODULE), "place new modules in LAYER_OF_MODULE"


def test_modules_import_only_from_their_layer_or_below() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in _graph().items()
        for target in targets
        if LAYER_OF_MODULE[_top(target)] > LAYER_OF_MODULE[_top(name)]
    ]
    assert wrong == []


@pytest.mark.parametrize("name", sorted(_modules()))
def test_no_module_is_too_long(name: str) -> None:
    lines = len(_modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"
