"""Render the notebook display in a real browser and save PNG screenshots to docs/images/.

Not part of the test run (the tests check the HTML itself). It needs Debian's
``chromium`` (``apt-get install -y chromium``) and, to trim the empty margin,
Pillow (installed with matplotlib by the ``notebook`` extra)::

    python scripts/screenshots.py            # writes docs/images/*.png
    python scripts/screenshots.py --out DIR  # elsewhere

Three views, each in a light and a dark page (the dark page sets only a dark
background and light text, as a plain dark notebook theme does): a package card
(django-otp from the bundled sample), a grid comparison and a catalogue summary
(both from the synthetic live-scale catalogue of ``benchmarks/catalogue.py``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import catalogue  # noqa: E402

from djangopackages_sdk import Catalog  # noqa: E402
from djangopackages_sdk.testing import sample_packages  # noqa: E402

THEMES = {
    "light": "background:#ffffff;color:#1f2328",
    "dark": "background:#1e1e1e;color:#d4d4d4",
}
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body{{{theme};margin:0;padding:16px;font-family:system-ui,sans-serif}}
</style></head><body>{content}</body></html>"""


def live_scale_catalog() -> Catalog:
    """The synthetic catalogue at live scale (5,405 packages), as models."""
    fetched = datetime(2026, 8, 9, 4, 0, tzinfo=UTC)
    return catalogue.as_catalog(catalogue.generate(5_405, 380, 3), fetched_at=fetched)


def views() -> dict[str, tuple[str, int]]:
    """Each view's HTML and the browser width to show it at."""
    otp = next(p for p in sample_packages() if p.slug == "django-otp")
    catalog = live_scale_catalog()
    grid = min(
        (g for g in catalog.grids if len(catalog.packages_in(g)) >= 8),
        key=lambda g: (len(g.packages), g.id),
    )
    return {
        "card": (otp._repr_html_(), 760),
        "comparison": (catalog.compare(grid)._repr_html_(), 1180),
        "catalog": (catalog._repr_html_(), 1000),
    }


def shoot(browser: str, html: str, width: int, target: Path) -> None:
    """Save a screenshot of ``html`` as ``target``, trimmed to its content when possible."""
    with tempfile.TemporaryDirectory() as work:
        page = Path(work) / "page.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={Path(work) / 'profile'}",
                f"--screenshot={target}",
                f"--window-size={width},2400",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    trim(target)


def trim(path: Path) -> None:
    """Cut the page's empty bottom margin (needs Pillow; left as is without it)."""
    try:
        from PIL import Image, ImageChops
    except ImportError:
        return
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((0, 0)))
    box = ImageChops.difference(rgb, background).getbbox()
    if box:
        bottom = min(rgb.height, box[3] + 16)
        rgb = rgb.crop((0, 0, rgb.width, bottom))
    # A palette of 256 colours keeps the text crisp at a third of the size.
    rgb.quantize(256).save(path, optimize=True)


def main() -> None:
    """Render every view in both themes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--browser", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (html, width) in views().items():
        for theme, style in THEMES.items():
            target = args.out / f"{name}-{theme}.png"
            shoot(args.browser, PAGE.format(theme=style, content=html), width, target)
            print(f"wrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")


if __name__ == "__main__":
    main()
