"""The README's main job: the demo's offline tour runs and says what it should."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def _demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_under_test", DEMO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_offline_tour(capsys: pytest.CaptureFixture[str]) -> None:
    assert _demo().main([]) == 0
    out = capsys.readouterr().out
    assert "django-otp 1.7.0: 621 stars, 117 forks" in out
    assert "5 packages, 8 grids, 1 category" in out
    assert "loaded back equal: True" in out
    assert "without a commit for a year" in out
    assert "django-otp                  621 stars  1.7.0      active" in out
    assert "requests: not on Django Packages" in out
    assert "(offline: the bundled sample answered 10 requests)" in out
