"""``python -m djangopackages_sdk``: the ``djangopackages`` command line."""

from __future__ import annotations

if __name__ == "__main__":
    from ._cli import main

    main()
