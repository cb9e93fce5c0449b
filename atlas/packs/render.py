"""What every pack shares: Chromium, which draws the charts as static SVG (kaleido) and prints the HTML
to PDF (`--print-to-pdf`).

Chromium is looked for at `$ATLAS_CHROMIUM`, then `chromium` on the PATH, then /usr/bin/chromium.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import jinja2
import plotly.graph_objects as go

# The packs' templates (atlas/templates): autoescaping on, and a missing value is an error, never blank.
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

CHART_WIDTH = 900  # px: the SVGs scale to the page width


class ReportError(RuntimeError):
    """The pack could not be produced; the message says what to install or fix."""


def chromium_path() -> str:
    """The Chromium that draws the charts and prints the PDF."""
    for candidate in (os.environ.get("ATLAS_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                      "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    raise ReportError("The packs draw its charts and prints its PDF with Chromium, and none was found: "
                      "apt-get install chromium (or set ATLAS_CHROMIUM to its path).")


def _run(coroutine_factory):
    """Run an async job to completion on a thread of its own (safe inside Streamlit, which has a loop)."""
    result: dict = {}

    def target():
        try:
            result["value"] = asyncio.run(coroutine_factory())
        except BaseException as error:  # re-raised in the caller's thread
            result["error"] = error

    thread = threading.Thread(target=target, name="atlas-report-charts")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def chart_images(figures: dict[str, go.Figure], width: int = CHART_WIDTH) -> dict[str, str]:
    """Static SVG of each figure (kaleido, one Chromium for all), as `data:` URIs."""
    import kaleido

    path = chromium_path()
    items = list(figures.items())

    async def render():
        async with kaleido.Kaleido(n=1, timeout=120, mathjax=False, path=path) as k:
            return [await k.calc_fig(_for_print(fig), opts={"format": "svg", "width": width,
                                                            "height": fig.layout.height or 420})
                    for _, fig in items]

    try:
        svgs = _run(render)
    except Exception as error:  # kaleido / choreographer failures: say what the pack needs
        raise ReportError(f"Could not draw the charts with Chromium at {path}: {error}") from error
    return {key: "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
            for (key, _), svg in zip(items, svgs)}


def _for_print(fig: go.Figure) -> go.Figure:
    """The figure as it should print: white background, its title kept (the pack has no hover)."""
    out = go.Figure(fig)
    out.update_layout(paper_bgcolor="white", plot_bgcolor="white", font=dict(size=12))
    return out


def pdf(html_text: str, timeout: float = 120) -> bytes:
    """The HTML printed to PDF by headless Chromium (A4; page size, margins and numbers from its CSS)."""
    browser = chromium_path()
    with tempfile.TemporaryDirectory(prefix="atlas-report-") as tmp:
        source, target = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(html_text, encoding="utf-8")
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--no-first-run", "--disable-extensions", f"--user-data-dir={Path(tmp) / 'profile'}",
                   f"--print-to-pdf={target}", source.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not print the PDF within {timeout:.0f} s") from None
        if not target.exists() or target.stat().st_size == 0:
            raise ReportError("Chromium did not print the PDF: " + done.stderr.decode(errors="replace")[-800:])
        return target.read_bytes()
