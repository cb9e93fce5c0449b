"""The board pack: the Network map for a board meeting, as one self-contained HTML file and its PDF.

`build(db, filters, min_cell)` gathers what the board's screen shows for one whole reporting period,
under the board's protections whoever asks for it (flows of at least `min_cell` with the complement
rule, ratings without referral counts, no victim-service agency named or drawn, network-level
accountability figures only):

* a front page in plain language: what the network did, where it holds together and where it does
  not, how partners rate their ties, what changed since the previous period;
* the summary map (one dot per region) and the agency map as static vector pictures (SVG drawn by
  plotly from the very layout of the interactive map, so the picture is the screen's);
* the network scores beside the previous period's, formal versus real, partnership quality.

`html(pack)` renders it (Jinja autoescaping; no script; a Content-Security-Policy that allows nothing
outside the file) and `render.pdf` prints it. Pure: no Streamlit.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas import formats
from atlas.escape import html as esc
from atlas.filters import Filters, reporting_periods
from atlas.packs import board_survey
from atlas.packs.render import TEMPLATES, ReportError, chart_images, pdf  # the pack's API
from atlas.views import accountability, network, ties
from atlas.views import survey as surveys
from atlas.vocab import group_label, label

PICTURE_WIDTH = 1000  # px of the SVG pictures (they scale to the page)
TOP_ROWS = 10  # rows of each table printed



@dataclass(frozen=True)
class BoardPack:
    """Everything the pack prints, computed once; `html()` renders it."""

    filters: Filters
    previous: Filters | None  # the period before, when the data reaches back to it
    min_cell: int
    as_of: pd.Timestamp | None
    network: network.NetworkView  # the agency map, board protections
    before: network.NetworkView | None
    summary: network.SummaryView  # by region
    quality: ties.Quality
    quality_before: ties.Quality | None
    passed: accountability.Headline
    scores: pd.DataFrame  # measure, this period, previous period, change (display strings)
    bridges: pd.DataFrame  # the heaviest flows between communities
    reading: list[str]  # the front page, Markdown-style **bold**, data text escaped by `html()`
    survey: surveys.BoardSurvey | None = None  # the partnership-survey round of the period (board_survey.py)


def board_period(first: dt.date, last: dt.date, length: str, label_: str | None = None) -> Filters:
    """The whole reporting period (calendar quarter or year) the pack covers: the one labelled `label_`
    ("2025 Q3", "2025"), or the latest that has ended by the data's last day."""
    periods = reporting_periods(first, last, length)
    if not periods:
        raise ReportError(f"The data ({first} to {last}) holds no whole calendar {length} yet: a board pack covers "
                          f"one, as the board's screen does.")
    if label_ is None:
        _, start, end = periods[0]
        return Filters(start, end, aligned=length)
    for name, start, end in periods:
        if name == label_.strip():
            return Filters(start, end, aligned=length)
    raise ReportError(f"{label_!r} is not a whole calendar {length} of the data; choose one of "
                      + ", ".join(name for name, _, _ in periods[:12]) + ("…" if len(periods) > 12 else ""))


def for_board(filters: Filters, first: dt.date, last: dt.date, length: str) -> Filters:
    """The pack's period from a page's filters: the filters themselves when they are already a whole period
    of the whole network (the board's view), else the latest whole period that ends by their end."""
    if filters.aligned and not (filters.region or filters.service_type or filters.sector):
        return Filters(filters.start, filters.end, aligned=filters.aligned)
    end = min(filters.end or last, last)
    candidates = reporting_periods(first, end, length)
    if not candidates:
        return board_period(first, last, length)
    _, start, stop = candidates[0]
    return Filters(start, stop, aligned=length)


def build(db, filters: Filters, min_cell: int) -> BoardPack:
    """The pack's figures for one whole reporting period (see `board_period`), with the board's protections."""
    if not filters.aligned or filters.start is None or filters.end is None:
        raise ValueError("a board pack covers a whole reporting period (Filters.aligned)")
    extent = db.query("data_extent").iloc[0]
    first = None if pd.isna(extent["first_referral"]) else pd.Timestamp(extent["first_referral"]).date()
    as_of = None if pd.isna(extent["as_of"]) else pd.Timestamp(extent["as_of"])
    choice = network.MapChoice(min_referrals=min_cell)
    view = network.build(db, filters, choice, min_cell=min_cell)
    previous = filters.previous()
    if previous is not None and (first is None or previous.end < first):
        previous = None  # the data does not reach back to it
    before = network.build(db, previous, choice, min_cell=min_cell) if previous else None
    quality = ties.build(db, filters, min_cell=min_cell)
    quality_before = ties.build(db, previous, min_cell=min_cell) if previous else None
    summary = network.summary_view(db, filters, by="region", min_cell=min_cell)
    passed = accountability.headline(db, filters, min_cell=min_cell)
    scores = score_table(view, before, quality, quality_before)
    bridges = community_bridges(view)
    pack = BoardPack(filters, previous, min_cell, as_of, view, before, summary, quality, quality_before, passed,
                     scores, bridges, [])
    return replace(pack, reading=reading(pack), survey=surveys.board(db, filters))


# ---------------------------------------------------------------------------------------------- figures

def _number(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if kind == "count":
        return formats.count(value)
    if kind == "pct":
        return formats.percent(value)
    return f"{value:.2f}"


def _change(now, then, kind: str) -> str:
    if now is None or then is None or (isinstance(now, float) and np.isnan(now)) \
            or (isinstance(then, float) and np.isnan(then)):
        return "—"
    delta = now - then
    if kind == "count":
        return "no change" if delta == 0 else f"{delta:+,}"
    if kind == "pct":
        return "no change" if round(100 * delta, formats.PERCENT_PLACES) == 0 else formats.points(delta)
    return "no change" if round(delta, 2) == 0 else f"{delta:+.2f}"


SCORES = [  # key of NetworkView.summary or Quality.scores, label, kind, what it says
    ("referrals", "Referrals in the flows shown", "count", "referrals in the flows the board may see"),
    ("agencies", "Agencies", "count", "agencies on the map (victim-service agencies are never drawn)"),
    ("flows", "Referral flows", "count", "agency pairs, one way, carrying a flow shown"),
    ("density", "Density", "pct", "share of possible one-way pairs that carry a flow"),
    ("reciprocity", "Reciprocity", "pct", "share of flows that are returned"),
    ("centralization", "Centralization", "ratio", "0: partners spread evenly; 1: one hub tied to all"),
    ("components", "Separate parts", "count", "parts of the network with no flow between them"),
    ("cut_points", "Cut points", "count", "agencies whose closure would split the network"),
    ("mean_trust", "Mean trust (1–4)", "ratio", "partners' trust in their declared ties"),
    ("mean_value", "Mean value (1–4)", "ratio", "the value partners see in their declared ties"),
]


def score_table(view, before, quality, quality_before) -> pd.DataFrame:
    """The network scores of the period beside the previous period's, and the change."""
    rows = []
    for key, name, kind, meaning in SCORES:
        source, old = (quality.scores, quality_before.scores if quality_before else None) if key.startswith("mean_") \
            else (view.summary, before.summary if before else None)
        now = source.get(key)
        then = None if old is None else old.get(key)
        rows.append({"Measure": name, "This period": _number(now, kind),
                     "Previous period": "—" if old is None else _number(then, kind),
                     "Change": "—" if old is None else _change(now, then, kind), "What it says": meaning})
    return pd.DataFrame(rows)


def community_bridges(view, top: int = TOP_ROWS) -> pd.DataFrame:
    """The heaviest flows shown between agencies of different communities: the network's bridges."""
    community = dict(zip(view.agencies["agency_id"], view.agencies["community"]))
    names = dict(zip(view.agencies["agency_id"], view.agencies["name"]))
    f = view.flows.assign(a=view.flows["from_agency_id"].map(community), b=view.flows["to_agency_id"].map(community))
    f = f[f["a"].notna() & f["b"].notna() & (f["a"] != f["b"])].nlargest(top, "referrals")
    return pd.DataFrame({"From": f["from_agency_id"].map(names), "Community": f["a"].astype(int),
                         "To": f["to_agency_id"].map(names), "Their community": f["b"].astype(int),
                         "Referrals": f["referrals"].astype(int)}).reset_index(drop=True)


def reading(pack: BoardPack) -> list[str]:
    """The front page: a handful of plain sentences, each with its figure in **bold**. Names are Markdown
    escaped here and HTML-escaped when rendered."""
    view, s, q = pack.network, pack.network.summary, pack.quality.scores
    period = pack.filters.describe_period()
    drawn = view.layout.agencies if view.layout is not None else view.agencies.head(0)
    lines = [f"In **{period}**, **{len(drawn):,}** agencies are on the map, joined by **{s['flows']:,}** referral "
             f"flows that carried **{s['referrals']:,}** referrals (the flows that may be shown: one of fewer than "
             f"{pack.min_cell} referrals is not, nor are enough others to protect it)."]
    between = pack.summary.arrows
    if len(between):
        top = between.sort_values(["referrals", "from_group", "to_group"], ascending=[False, True, True]).iloc[0]
        lines.append(f"Between regions, **{len(between):,}** of {len(pack.summary.between):,} pairs that referred "
                     f"to each other are shown; the busiest runs from **{_md(top['from_group'])}** to "
                     f"**{_md(top['to_group'])}** ({int(top['referrals']):,} referrals).")
    sizes = drawn["community"].value_counts()
    communities = int((sizes > 1).sum())  # an agency alone is not a community
    if communities > 1 and len(pack.bridges):
        top = pack.bridges.iloc[0]
        lines.append(f"The agencies fall into **{communities}** communities that refer mostly among themselves; the "
                     f"busiest bridge between them runs from **{_md(top['From'])}** to **{_md(top['To'])}** "
                     f"({int(top['Referrals']):,} referrals).")
    elif communities > 1:
        lines.append(f"The agencies fall into **{communities}** communities that refer mostly among themselves, and no "
                     f"flow of at least {pack.min_cell} referrals runs between them: the ties that bridge them are "
                     f"declared partnerships or smaller flows.")
    if s["cut_points"]:
        cut = view.cut_points.iloc[0]
        lines.append(f"**{s['cut_points']:,}** agencies hold parts of the network together: if **{_md(cut['agency'])}** "
                     f"closed, {int(cut['cut_off']):,} agencies on the map would lose every tie to the rest.")
    real = view.formal_real
    lines.append(f"**{real.unagreed_flows:,}** referral flows run with no formal agreement behind them, carrying "
                 f"**{formats.percent(real.unagreed_share)}** of the referrals shown, and **{real.dormant:,}** of "
                 f"{real.ties:,} declared partnerships carried no referral at all in the period.")
    if q["mean_trust"] is not None:
        lines.append(f"Partners rate their ties **{q['mean_trust']:.1f} of 4** for trust and "
                     + ("—" if q["mean_value"] is None else f"**{q['mean_value']:.1f} of 4**")
                     + f" for value ({q['rated_trust']:,} of {q['ties']:,} partnerships rated); "
                     f"**{len(pack.quality.strained):,}** ties rated low in trust still carry heavy referral flows.")
    else:
        lines.append("No partnership has a trust or value rating yet: partner surveys (the partnerships file's "
                     "trust and value columns) would add them.")
    sentence = pack.passed.sentence(pack.min_cell)
    if sentence:
        lines.append(sentence)
    if pack.before is not None:
        then = pack.before.summary
        change = s["referrals"] - then["referrals"]
        lines.append(f"Against **{pack.previous.describe_period()}**: referrals in the flows shown "
                     + (f"rose by **{change:,}**" if change > 0 else f"fell by **{-change:,}**" if change < 0
                        else "did not change")
                     + f", and the map has **{s['flows'] - then['flows']:+,}** flows and "
                     f"**{s['cut_points'] - then['cut_points']:+,}** cut points.")
    return lines


def _md(text) -> str:
    """A name inside a **bold** reading line: its own asterisks cannot end the bold."""
    return str(text).replace("*", "\u2217")


# ---------------------------------------------------------------------------------------------- pictures

def _arrowheads(x0, y0, x1, y1, back):
    """Where to put each arrowhead (just outside the target's dot) and its angle (degrees clockwise from up,
    on a y-down picture)."""
    dx, dy = x1 - x0, y1 - y0
    length = np.hypot(dx, dy)
    length[length == 0] = 1
    ux, uy = dx / length, dy / length
    return x1 - ux * back, y1 - uy * back, np.degrees(np.arctan2(ux, -uy))


def _segments(x0, y0, x1, y1) -> tuple[list, list]:
    xs, ys = [], []
    for a, b, c, d in zip(x0, y0, x1, y1):
        xs += [a, c, None]
        ys += [b, d, None]
    return xs, ys


def _frame(fig: go.Figure, xy: np.ndarray, sizes: np.ndarray, width: int, title: str) -> float:
    """Equal-aspect axes around the drawing, y down (as the interactive map); returns pixels per map unit."""
    lo = (xy - sizes[:, None]).min(axis=0) if len(xy) else np.array([-1.0, -1.0])
    hi = (xy + sizes[:, None]).max(axis=0) if len(xy) else np.array([1.0, 1.0])
    pad = 0.06 * max(hi - lo)
    lo, hi = lo - pad, hi + pad
    span = np.maximum(hi - lo, 1e-9)
    plot_width = width - 20
    height = int(np.clip(plot_width * span[1] / span[0], 360, 900)) + 150
    fig.update_layout(width=width, height=height, title=dict(text=title, x=0, xanchor="left"),
                      margin=dict(l=10, r=10, t=50, b=100, autoexpand=False), plot_bgcolor="white",
                      paper_bgcolor="white",
                      showlegend=True, legend=dict(orientation="h", yanchor="top", y=-0.01, x=0, xanchor="left",
                                                   font=dict(size=11)))
    fig.update_xaxes(visible=False, range=[lo[0], hi[0]], constrain="domain")
    fig.update_yaxes(visible=False, range=[hi[1], lo[1]], scaleanchor="x", scaleratio=1, constrain="domain")
    return min(plot_width / span[0], (height - 150) / span[1])


def _width_classes(values: np.ndarray, top: float) -> np.ndarray:
    """Line widths in three classes (px), so a printed map needs few traces."""
    ratio = np.sqrt(values / max(top, 1))
    return np.select([ratio >= 0.6, ratio >= 0.3], [5.0, 2.8], 1.2)


def agency_picture(view: network.NetworkView, title: str) -> go.Figure:
    """The agency map as a static picture, from the interactive map's own layout: dots by sector and size,
    flows as arrows coloured by their declared tie (three widths), declared ties as lines (dashed when
    informal, dotted when rated low in trust), the names the map writes, region names over their clusters."""
    layout = view.layout
    fig = go.Figure()
    if layout is None or not len(layout.agencies):
        fig.update_layout(title=title, annotations=[dict(text="No flow of the period is large enough to draw.",
                                                         showarrow=False)])
        return fig
    ppu = _frame(fig, layout.xy, layout.sizes, PICTURE_WIDTH, title)
    where = {a: i for i, a in enumerate(layout.agencies["agency_id"])}
    _tie_lines(fig, layout, view.choice, where)
    board_survey.lines(fig, layout, view.choice, where, _segments)
    _flow_arrows(fig, layout, view.choice, where, ppu)
    _agency_marks(fig, layout, ppu)
    xy, sizes, agencies = layout.xy, layout.sizes, layout.agencies
    for i in (where[a] for a in layout.labelled):  # on a white ground, legible over the lines they cross
        fig.add_annotation(x=xy[i, 0], y=xy[i, 1] + sizes[i] + 2 / max(ppu, 1e-9), text=esc(agencies["name"].iat[i]),
                           showarrow=False, yanchor="top", font=dict(size=10, color="#222222"),
                           bgcolor="rgba(255,255,255,0.85)", borderpad=1)
    if view.choice.cluster_by == "region" and layout.clusters.nunique() > 1:
        for caption, y, x in network.cluster_captions(layout):
            fig.add_annotation(x=x, y=y, text=esc(caption), showarrow=False, yanchor="bottom",
                               font=dict(size=13, color="#444444"), bgcolor="rgba(255,255,255,0.85)")
    return fig


def _tie_lines(fig: go.Figure, layout: network.MapLayout, choice: network.MapChoice, where: dict) -> None:
    """The declared ties of the layers shown, as lines: solid when formal, dashed when informal, dotted when rated
    low in trust."""
    xy = layout.xy
    for kind in ("formal", "informal"):
        rows = layout.ties[layout.ties["kind"] == kind] if kind in choice.layers else layout.ties.head(0)
        rows = rows[rows["agency_a_id"].isin(where) & rows["agency_b_id"].isin(where)]
        low = rows["trust"].notna() & (rows["trust"] <= 2) if "trust" in rows else pd.Series(False, index=rows.index)
        for part, dash, name in ((rows[~low], "solid" if kind == "formal" else "dash", network.LAYERS[kind]),
                                 (rows[low], "dot", f"{network.LAYERS[kind][:-1]} rated low in trust (1–2)")):
            if not len(part):
                continue
            a = part["agency_a_id"].map(where).to_numpy()
            b = part["agency_b_id"].map(where).to_numpy()
            xs, ys = _segments(xy[a, 0], xy[a, 1], xy[b, 0], xy[b, 1])
            fig.add_scatter(x=xs, y=ys, mode="lines", name=name, hoverinfo="skip",
                            line=dict(color=network.TIE_COLOURS[kind], width=1, dash=dash))


def _flow_arrows(fig: go.Figure, layout: network.MapLayout, choice: network.MapChoice, where: dict,
                 ppu: float) -> None:
    """The flows, when shown, as arrows coloured by the declared tie behind them, in three widths."""
    xy, sizes = layout.xy, layout.sizes
    flows = layout.flows if "flows" in choice.layers else layout.flows.head(0)
    flows = flows[flows["from_agency_id"].isin(where) & flows["to_agency_id"].isin(where)]
    if not len(flows):
        return
    top = float(flows["referrals"].max())
    widths = _width_classes(flows["referrals"].to_numpy(float), top)
    a = flows["from_agency_id"].map(where).to_numpy()
    b = flows["to_agency_id"].map(where).to_numpy()
    for agreement, colour in network.FLOW_COLOURS.items():
        for width in sorted(set(widths), reverse=True):
            pick = (flows["agreement"].to_numpy() == agreement) & (widths == width)
            if not pick.any():
                continue
            xs, ys = _segments(xy[a[pick], 0], xy[a[pick], 1], xy[b[pick], 0], xy[b[pick], 1])
            first = width == max(w for w in set(widths) if ((flows["agreement"].to_numpy() == agreement)
                                                            & (widths == w)).any())
            fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=width), hoverinfo="skip",
                            name=f"Referral flow, {network.AGREEMENTS[agreement].lower()}",
                            legendgroup=agreement, showlegend=bool(first), opacity=0.75)
            hx, hy, angle = _arrowheads(xy[a[pick], 0], xy[a[pick], 1], xy[b[pick], 0], xy[b[pick], 1],
                                        sizes[b[pick]] + 4 / max(ppu, 1e-9))
            fig.add_scatter(x=hx, y=hy, mode="markers", hoverinfo="skip", showlegend=False,
                            legendgroup=agreement, marker=dict(symbol="triangle-up", size=5 + width * 1.6,
                                                               angle=angle, color=colour, line=dict(width=0)))


def _agency_marks(fig: go.Figure, layout: network.MapLayout, ppu: float) -> None:
    """The agencies as marks, one trace per sector (its colour and symbol), sized as on the map."""
    xy, sizes, agencies = layout.xy, layout.sizes, layout.agencies
    for sector, colour in network.SECTOR_COLOURS.items():
        pick = (agencies["sector"] == sector).to_numpy()
        if pick.any():
            fig.add_scatter(x=xy[pick, 0], y=xy[pick, 1], mode="markers", name=label(sector), hoverinfo="skip",
                            marker=dict(size=np.maximum(4, 2 * sizes[pick] * ppu), color=colour,
                                        symbol=network.plotly_symbol(sector),
                                        line=dict(color="#222222", width=0.8), opacity=1))
    other = ~agencies["sector"].isin(list(network.SECTOR_COLOURS)).to_numpy()
    if other.any():
        fig.add_scatter(x=xy[other, 0], y=xy[other, 1], mode="markers", name="Other sector", hoverinfo="skip",
                        marker=dict(size=np.maximum(4, 2 * sizes[other] * ppu), color="#999999"))


def printed_text(fig: go.Figure) -> list[str]:
    """Every text a picture prints (trace texts, annotations, title), as plotly receives it."""
    texts = [str(t) for trace in fig.data for t in (getattr(trace, "text", None) or ()) if t is not None]
    texts += [str(a.text) for a in fig.layout.annotations if a.text]
    return texts + ([str(fig.layout.title.text)] if fig.layout.title.text else [])


def summary_picture(summary: network.SummaryView, title: str) -> go.Figure:
    """The summary map as a static picture: one dot per region (or sector) sized by its referrals, with its
    name and referrals written under it, and an arrow for the referrals from one to another (both ways side
    by side), in three widths."""
    nodes, between = summary.nodes, summary.arrows
    hidden = dict(summary.hidden)
    xy, sizes = network.summary_positions(nodes.assign(referrals=[
        0 if "referrals" in hidden.get(g, ()) else n for g, n in zip(nodes["group"], nodes["referrals"])]))
    fig = go.Figure()
    ppu = _frame(fig, xy, sizes + 60, PICTURE_WIDTH, title)
    where = {g: i for i, g in enumerate(nodes["group"])}
    if len(between):
        a = between["from_group"].map(where).to_numpy()
        b = between["to_group"].map(where).to_numpy()
        dx, dy = xy[b, 0] - xy[a, 0], xy[b, 1] - xy[a, 1]
        length = np.maximum(np.hypot(dx, dy), 1e-9)
        off = 9.0  # both directions side by side: each shifted to its right
        nx_, ny_ = -dy / length * off, dx / length * off
        x0, y0, x1, y1 = xy[a, 0] + nx_, xy[a, 1] + ny_, xy[b, 0] + nx_, xy[b, 1] + ny_
        widths = _width_classes(between["referrals"].to_numpy(float), float(between["referrals"].max()))
        for k, width in enumerate(sorted(set(widths), reverse=True)):
            pick = widths == width
            xs, ys = _segments(x0[pick], y0[pick], x1[pick], y1[pick])
            fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color="#f3722c", width=width), opacity=0.8,
                            name="Referrals from one to another", showlegend=k == 0, legendgroup="between",
                            hoverinfo="skip")
            hx, hy, angle = _arrowheads(x0[pick], y0[pick], x1[pick], y1[pick], sizes[b[pick]] + 4 / max(ppu, 1e-9))
            fig.add_scatter(x=hx, y=hy, mode="markers", showlegend=False, legendgroup="between", hoverinfo="skip",
                            marker=dict(symbol="triangle-up", size=6 + width * 1.8, angle=angle, color="#f3722c"))
    names = [group_label(summary.by, g) for g in nodes["group"]]
    fig.add_scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", name=network.SUMMARY_BY[summary.by], hoverinfo="skip",
                    marker=dict(size=2 * sizes * ppu, color="#577590", line=dict(color="white", width=1)))
    fig.add_scatter(x=xy[:, 0], y=xy[:, 1] + sizes + 10 / max(ppu, 1e-9), mode="text", showlegend=False,
                    text=[f"<b>{esc(n)}</b><br>" + (f"referrals {network.HIDDEN}" if "referrals" in hidden.get(g, ())
                                                    else f"{r:,} referrals")
                          for g, n, r in zip(nodes["group"], names, nodes["referrals"])],
                    textposition="bottom center", textfont=dict(size=12, color="#222222"), hoverinfo="skip")
    return fig


# ---------------------------------------------------------------------------------------------- files

def _rows(frame: pd.DataFrame, top: int | None = TOP_ROWS) -> dict:
    """A table for the template: headings, rows of display strings, which columns are numbers."""
    total = len(frame)
    frame = frame if top is None else frame.head(top)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) or (len(frame) > 0 and frame[c].map(
        lambda v: isinstance(v, str) and (v == network.HIDDEN or v.replace(",", "").isdigit())).all())
        for c in frame.columns]
    rows = [["" if v is None or (not isinstance(v, str) and pd.isna(v)) else
             f"{v:,.1f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, (int, np.integer)) else str(v)
             for v in record] for record in frame.itertuples(index=False, name=None)]
    return {"headings": list(frame.columns), "rows": rows, "numeric": numeric, "more": max(0, total - len(rows))}


def _segments_of(line: str) -> list[tuple[str, bool]]:
    pieces, bold = [], False
    for part in line.split("**"):
        if part:
            pieces.append((part, bold))
        bold = not bold
    return pieces


def pictures(pack: BoardPack) -> dict[str, go.Figure]:
    period = pack.filters.describe_period()
    return {"summary": summary_picture(pack.summary, f"The network by region, {period}"),
            "agencies": agency_picture(pack.network, f"Who refers to whom, {period}")}


def html(pack: BoardPack, images: dict[str, str] | None = None, generated: dt.datetime | None = None) -> str:
    """The pack as one self-contained HTML document (pictures only where `images` has them)."""
    images = images or {}
    generated = generated or dt.datetime.now()
    view, q = pack.network, pack.quality
    tables = {
        "scores": _rows(pack.scores, None),
        "regions": _rows(pack.summary.table, None),
        "region_pairs": _rows(pack.summary.flows_table, None),
        "region_formal": _rows(view.region_formal, None),
        "bridges": _rows(pack.bridges),
        "brokers": _rows(view.scores[["Agency", "Sector", "Region", "Community", "Brokerage (betweenness)"]].assign(
            Sector=lambda f: f["Sector"].map(label), **{"Brokerage (betweenness)": lambda f: f[
                "Brokerage (betweenness)"].map(lambda v: f"{v:.3f}")}).head(TOP_ROWS)),
        "cut_points": _rows(view.cut_points.rename(columns={"agency": "Agency", "cut_off": "Agencies cut off",
                                                            "agencies_cut_off": "Which"})[
            ["Agency", "Agencies cut off", "Which"]]),
        "informal": _rows(view.informal_flows),
        "dormant": _rows(view.dormant.assign(Since=view.dormant["Since"].map(formats.date))),
        "strained": _rows(q.strained),
        "idle": _rows(q.idle),
        "ratings": _rows(q.ratings.assign(**{"Mean trust": q.ratings["Mean trust"].astype(float),
                                             "Mean value": q.ratings["Mean value"].astype(float)})),
    }
    s = view.summary
    figures = [
        ("Referrals shown", f"{s['referrals']:,}", f"in flows of at least {pack.min_cell}"),
        ("Agencies on the map", f"{len(view.layout.agencies) if view.layout is not None else 0:,}",
         f"{s['flows']:,} flows between them"),
        ("Mean trust", "—" if q.scores["mean_trust"] is None else f"{q.scores['mean_trust']:.1f} of 4",
         f"{q.scores['rated_trust']:,} of {q.scores['ties']:,} partnerships rated"),
        ("Cut points", f"{s['cut_points']:,}", "agencies whose closure splits the network"),
    ]
    return TEMPLATES.get_template("board.html").render(
        case=case_figures(pack.passed, pack.min_cell),
        region_note=network.summary_caption("region", pack.min_cell, pack.summary),
        region_formal_note=network.region_formal_caption(view, pack.min_cell),
        period=pack.filters.describe_period(),
        previous=pack.previous.describe_period() if pack.previous else None,
        as_of=formats.date(pack.as_of),
        generated=formats.moment(generated),
        min_cell=pack.min_cell,
        reading=[_segments_of(line) for line in pack.reading],
        figures=figures,
        images=images,
        map_words=_map_words(pack),
        tables=tables,
        quality=q.scores,
        survey=board_survey.section(pack.survey),
        not_drawn=view.not_drawn,
        flows_drawn=view.flows_drawn,
        flows_total=view.flows_total,
        sectors=[(label(name), colour, "cross" if name in network.DASHED_SECTORS else network.SECTOR_SHAPES[name])
                 for name, colour in network.SECTOR_COLOURS.items()],
    )


def case_figures(passed: accountability.Headline, min_cell: int) -> dict:
    """The network-level accountability figures as the pack prints them: a share beside each count, and
    "hidden" (with why) where the small-cell rule withholds one."""
    multi = passed.multi_agency

    def count(value) -> str:
        if value is None:
            return "hidden"
        return f"{value:,}" + (f" ({accountability._pct(value / multi)})" if multi else "")

    hidden = None
    if multi is None or (passed.unheld is None or passed.with_lead is None):
        hidden = (f"A figure reads “hidden” when it, or what it leaves of the total, is fewer than {min_cell}: "
                  f"it could point to a few families.")
    return {"multi_agency": "hidden" if multi is None else f"{multi:,}", "unheld": count(passed.unheld),
            "with_lead": count(passed.with_lead), "hidden": hidden}


def _map_words(pack: BoardPack) -> str:
    view = pack.network
    return ("Each mark is an agency, shaped and coloured by its sector and sized by the referrals it made and received. An arrow "
            "is a referral flow, from the agency that referred to the one that received, thicker for more "
            "referrals; its colour says whether a formal agreement, an informal tie or no declared tie stands "
            "behind it. A line without an arrow is a declared partnership: solid for a formal agreement, dashed "
            "for an informal tie, dotted when the partners rated their trust 1 or 2 of 4. "
            + network.CLUSTER_WORDS[view.choice.cluster_by]
            + f" The {view.flows_drawn:,} strongest of {view.flows_total:,} flows are drawn"
            + (f"; {view.not_drawn:,} agencies with no flow or tie on the map are left out of it." if view.not_drawn
               else "."))


def make(pack: BoardPack, generated: dt.datetime | None = None) -> tuple[str, bytes]:
    """HTML and PDF of the pack (the pictures drawn once, for both)."""
    text = html(pack, chart_images(pictures(pack), width=PICTURE_WIDTH), generated)
    return text, pdf(text)


def file_names(out: Path) -> dict[str, Path]:
    """The pack's two files from the one name given: board.pdf -> board.html and board.pdf."""
    stem = out.with_suffix("") if out.suffix.lower() in (".html", ".htm", ".pdf") else out
    return {"html": stem.with_suffix(".html"), "pdf": stem.with_suffix(".pdf")}


def write(pack: BoardPack, out: Path) -> dict[str, Path]:
    names = file_names(Path(out))
    names["html"].parent.mkdir(parents=True, exist_ok=True)
    text, printed = make(pack)
    names["html"].write_text(text, encoding="utf-8")
    names["pdf"].write_bytes(printed)
    return names


def file_stem(filters: Filters) -> str:
    return "board_pack_" + re.sub(r"[^a-z0-9]+", "_", filters.describe_period().lower()).strip("_")


def deferred(db, filters: Filters, min_cell: int) -> tuple:
    """Two zero-argument callables (HTML, PDF) for the page's download buttons: the pack is built only when
    one is clicked, and at most once for both."""
    made: dict[str, str] = {}
    lock = threading.Lock()

    def html_text() -> str:
        with lock:
            if "html" not in made:
                pack = build(db, filters, min_cell)
                made["html"] = html(pack, chart_images(pictures(pack), width=PICTURE_WIDTH))
            return made["html"]

    return (lambda: html_text().encode("utf-8"), lambda: pdf(html_text()))


__all__ = ["BoardPack", "board_period", "for_board", "build", "html", "make", "write", "deferred", "file_stem",
           "agency_picture", "summary_picture"]
