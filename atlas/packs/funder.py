"""The funder pack: the Outcomes page to take away, as one self-contained HTML file, a PDF and a CSV.

`pack(view)` turns an `atlas.views.outcomes.Outcomes` view (the very object the page renders, so the
figures match) into:

* **HTML**: one file, no external URL (a Content-Security-Policy forbids any), no script; charts are
  static SVG drawn by kaleido with the system Chromium and embedded as `data:` URIs, data text is
  escaped by Jinja's autoescaping;
* **PDF**: that HTML printed by headless Chromium (`--print-to-pdf`), A4 with page numbers;
* **CSV**: every aggregate table in long form (`atlas.views.outcomes.long_table`), formula cells
  neutralised by `atlas.exports.safe_csv`.

Both Chromium uses look for `$ATLAS_CHROMIUM`, then `chromium` on the PATH, then /usr/bin/chromium.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from atlas import exports, formats, vocab
from atlas.packs.render import TEMPLATES, ReportError, chart_images, chromium_path, pdf  # noqa: F401 (the pack's API)
from atlas.views import outcomes, suppression
from atlas.views.outcomes import Outcomes

PACK_CHARTS = {  # key of view.figures -> the caption printed under it
    "by_service_type": "Each dot is a service type's positive-exit rate, the bar its 95% interval; the dashed line "
                       "and band are the whole network's rate and interval.",
    "by_funder": "The same by funder (programs.funder), over the programs shown.",
    "by_program": "The same by program (the largest by exits).",
    "trend": "Quarter by quarter, with the 95% interval as a band.",
    "mix_service_type": "How exits ended, as shares of each service type's exits. “Outcome not shown” holds "
                        "small counts that cannot be itemised.",
    "returns": "Clients with a positive housing exit, followed for 6, 12 and 24 months.",
    "pathways": "Positive-exit rate of clients by the agency that referred them in (the largest routes).",
}



@dataclass(frozen=True)
class Pack:
    html: str
    pdf: bytes
    csv: bytes


def pack_figures(view: Outcomes) -> dict[str, go.Figure]:
    """The figures the pack prints, in order: for one funder its programs, else the funders compared."""
    keys = ["by_service_type", "by_program" if view.funder else "by_funder", "trend", "mix_service_type",
            "returns", "pathways"]
    figures = {key: view.figure(key) for key in keys if key != "pathways"}
    if len(view.pathways):
        figures["pathways"] = outcomes.comparison_chart(
            view.pathways.rename(columns={"referrer": "group"}), view.network,
            "Positive-exit rate by referring agency", rows=20)
    return {k: figures[k] for k in keys if figures.get(k) is not None}


def _table(frame: pd.DataFrame, columns: dict[str, str], writers: dict | None = None) -> dict:
    """A table for the template: headings and rows of display strings ('' for hidden values); `writers` write
    the columns they name (atlas.formats), counts have thousands separators."""
    writers = writers or {}
    rows = []
    for record in frame.to_dict("records"):
        row = []
        for column in columns:
            value = record.get(column)
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                row.append(suppression.HIDDEN if record.get("suppressed") is True else "")
            elif column in writers:
                row.append(writers[column](value))
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                row.append(formats.count(value))
            else:
                row.append(str(value))
        rows.append(row)
    numeric = [c not in ("group", "referrer", "sector", "agency", "program", "service", "funder", "region", "horizon",
                         "shown", "housed")
               for c in columns]
    return {"headings": list(columns.values()), "rows": rows, "numeric": numeric}


RATE_FORMATS = {"rate": formats.percent, "ci_low": formats.percent, "ci_high": formats.percent}


def tables(view: Outcomes) -> dict[str, dict]:
    """The pack's tables, display-ready (the same frames the page shows)."""
    rate = {"exits": "Exits", "positive": "Positive", "rate": "Rate", "ci_low": "95% from", "ci_high": "95% to"}
    out = {
        "service_type": _table(view.by["service_type"], {"group": "Service type", "programs": "Programs", **rate},
                               RATE_FORMATS),
        "funder": _table(view.by["funder"], {"group": "Funder", "programs": "Programs", **rate}, RATE_FORMATS),
        "region": _table(view.by["region"], {"group": "Region", "programs": "Programs", **rate}, RATE_FORMATS),
    }
    if "agency" in view.by:  # a whole period's published set has no agency table
        out["agency"] = _table(view.by["agency"], {"group": "Agency", "region": "Region", "programs": "Programs",
                                                   **rate}, RATE_FORMATS)
    programs = view.programs if view.funder else view.programs[~view.programs["suppressed"]]
    programs = programs.assign(
        service=programs["service_type"].map(lambda s: "" if pd.isna(s) else vocab.label(s)),
        program=programs["program_name"].fillna(outcomes.NO_PROGRAM.lower()),
        shown=programs["suppressed"].map({True: "hidden: small numbers", False: ""}))
    out["programs"] = _table(programs, {"agency_name": "Agency", "program": "Program", "service": "Service type",
                                        **rate, "shown": ""}, RATE_FORMATS)
    hidden = int(view.programs["suppressed"].sum())
    out["programs_note"] = (f"The {len(programs):,} programs shown; {hidden:,} more are hidden for small numbers."
                            if not view.funder and hidden else "")
    trend = view.trend.assign(
        group=view.trend["scope"].map({"network": outcomes.NETWORK, "funder": view.funder or ""}),
        period=view.trend["quarter"].map(lambda q: f"{q.year} Q{(q.month - 1) // 3 + 1}"),
        shown=view.trend["suppressed"].map({True: "hidden: small numbers", False: ""}))
    out["trend"] = _table(trend, {"group": "Programs", "period": "Quarter", **rate, "shown": ""}, RATE_FORMATS)
    returns = view.returns.assign(
        horizon=view.returns["horizon_months"].map(lambda h: f"within {h} months"),
        housed=[f"{outcomes.day(a)} – {outcomes.day(b)}" for a, b in zip(view.returns["housed_from"],
                                                                          view.returns["housed_to"])],
        shown=view.returns["suppressed"].map({True: "hidden: small numbers", False: ""}))
    out["returns"] = _table(returns, {"horizon": "Back in homelessness", "housed": "Housed between", "followed": "Clients followed",
                                      "returned": "Returned", "rate": "Rate", "ci_low": "95% from",
                                      "ci_high": "95% to", "shown": ""}, RATE_FORMATS)
    out["pathways"] = _table(view.pathways, {"referrer": "Referred in by", "sector": "Sector", **rate}, RATE_FORMATS)
    return out


def reading_segments(view: Outcomes) -> list[list[tuple[str, bool]]]:
    """The page's reading lines as (text, bold) pieces, for HTML (the page renders the Markdown form)."""
    out = []
    for line in view.reading:
        pieces, bold = [], False
        for part in line.split("**"):
            if part:
                pieces.append((_unescape_markdown(part), bold))
            bold = not bold
        out.append(pieces)
    return out


def _unescape_markdown(text: str) -> str:
    import re

    return re.sub(r"\\(.)", r"\1", text)


def html(view: Outcomes, images: dict[str, str] | None = None, generated: dt.datetime | None = None) -> str:
    """The pack as one self-contained HTML document (charts only where `images` has them)."""
    images = images or {}
    figures = pack_figures(view)
    charts = [{"key": key, "title": _plain_title(fig), "src": images[key], "caption": PACK_CHARTS.get(key, "")}
              for key, fig in figures.items() if key in images]
    generated = generated or dt.datetime.now()
    return TEMPLATES.get_template("report.html").render(
        view=view,
        scope=view.funder or "the whole network",
        period=view.filters.describe(),
        as_of=formats.date(view.as_of),
        generated=formats.moment(generated),
        reading=reading_segments(view),
        selection=view.selection,
        network=view.network,
        shown=lambda value, hidden, write="{:,}".format: suppression.figure_text(value, bool(hidden), write),
        people=view.network.get("people", False),
        selection_hidden=bool(view.selection.get("hidden", False)),
        charts=charts,
        tables=tables(view),
        notes=view.notes,
        min_cell=view.min_cell,
        pct=formats.percent,
    )


def _plain_title(fig: go.Figure) -> str:
    text = fig.layout.title.text or ""
    import html as _html
    import re

    return _html.unescape(re.sub(r"<[^>]+>", " ", text.split("<br>")[0])).strip()


def csv(view: Outcomes) -> bytes:
    """Every aggregate table of the view, stacked, formula cells neutralised."""
    return exports.safe_csv(outcomes.long_table(view))


def pack(view: Outcomes, generated: dt.datetime | None = None) -> Pack:
    """HTML, PDF and CSV of one view (charts drawn once, for both HTML and PDF)."""
    text = html(view, chart_images(pack_figures(view)), generated)
    return Pack(html=text, pdf=pdf(text), csv=csv(view))


def file_names(out: Path) -> dict[str, Path]:
    """The pack's three files from the one name given: report.html -> report.html, .pdf, .csv."""
    stem = out.with_suffix("") if out.suffix.lower() in (".html", ".htm", ".pdf", ".csv") else out
    return {"html": stem.with_suffix(".html"), "pdf": stem.with_suffix(".pdf"), "csv": stem.with_suffix(".csv")}


def write(view: Outcomes, out: Path) -> dict[str, Path]:
    """Write the pack next to `out` (see `file_names`); returns the paths written."""
    names = file_names(Path(out))
    names["html"].parent.mkdir(parents=True, exist_ok=True)
    made = pack(view)
    names["html"].write_text(made.html, encoding="utf-8")
    names["pdf"].write_bytes(made.pdf)
    names["csv"].write_bytes(made.csv)
    return names


def deferred(view: Outcomes) -> tuple:
    """Three zero-argument callables (HTML, PDF, CSV) for the page's download buttons: each runs only
    when its button is clicked, and the HTML (with its charts) is made at most once for both."""
    made: dict[str, str] = {}
    lock = threading.Lock()

    def html_text() -> str:
        with lock:
            if "html" not in made:
                made["html"] = html(view, chart_images(pack_figures(view)))
            return made["html"]

    return (lambda: html_text().encode("utf-8"), lambda: pdf(html_text()), lambda: csv(view))


def file_stem(view: Outcomes) -> str:
    """A file name for the pack: outcomes_<funder or network>_<period>."""
    import re

    scope = re.sub(r"[^a-z0-9]+", "_", (view.funder or "network").lower()).strip("_") or "funder"
    start, end = view.filters.start, view.filters.end
    period = f"{start or 'start'}_{end or 'end'}" if (start or end) else "all_data"
    return f"outcomes_{scope}_{period}"
