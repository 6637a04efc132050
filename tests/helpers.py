"""What several test modules share: one definition of each."""

from __future__ import annotations

from typing import Final

API_ROOT: Final = "https://djangopackages.org/api/v4/"
"""The API root the fake answers under by default (``DEFAULT_BASE_URL``)."""
