"""The network maps as vis-network draws them: `MapDrawing` (nodes, edges, options and the legend, all
plain data), the agency map's (`map_drawing`) and the summary map's (`summary_drawing`), and the one
self-contained HTML document a drawing is written as (`drawing_html`, the download) with the page's
map component (`map_component_sources`). Presenting layer: positions come from `layout` and `summary`;
tooltips are plain text, which vis-network shows with innerText."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pyvis
from pyvis.network import Network

from atlas import formats
from atlas.views.network.choice import LAYERS, SIZE_MEASURES, SUMMARY_BY, MapChoice
from atlas.views.network.layout import MapLayout, cluster_captions, map_layout
from atlas.views.network.scores import ego
from atlas.views.network.style import (
    AGREEMENTS,
    CLUSTER_WORDS,
    DASHED_SECTORS,
    DIMMED,
    FLOW_COLOURS,
    GROUP_COLOUR,
    HIDDEN,
    MAP_FONT,
    SECTOR_COLOURS,
    SECTOR_SHAPES,
    TIE_COLOURS,
)
from atlas.views.network.summary import summary_positions
from atlas.views.network.survey import legend_line, survey_edges
from atlas.vocab import group_label, instrument_label

_TEMPLATES = jinja2.Environment(
    loader=jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(Path(__file__).parent.parent.parent / "templates"),
        jinja2.FileSystemLoader(Path(pyvis.__file__).parent / "templates"),  # vis-network, inlined
    ]),
    autoescape=True,
)


@dataclass(frozen=True)
class MapDrawing:
    """A map as vis-network draws it: its nodes, edges and options (positions laid out here, physics off;
    tooltips are plain text, which vis-network shows with innerText), and its legend. The page draws it in
    place (atlas.app.network_map); `drawing_html` writes it as one self-contained document."""
    title: str  # the document's title
    nodes: list[dict]
    edges: list[dict]
    options: dict
    height: int  # pixels, the legend included
    sectors: list[tuple[str, str, str, bool]]  # the legend's marks: name, colour, vis-network shape, dashed border
    lines: list[tuple[str, str, str]]  # the legend's lines: name, colour, CSS border style
    words: str  # the legend's sentence: what marks and lines mean
    alt: str  # what the map shows, said to a screen reader when its frame is reached (the table under it lists it)

    def data(self) -> dict:
        """What network_map.js draws (JSON): vis-network's nodes, edges and options, the legend (HTML written
        with autoescaping), the height and the map's alternative text."""
        legend = _TEMPLATES.get_template("network_legend.html").render(
            sectors=self.sectors, lines=self.lines, words=self.words)
        return {"nodes": self.nodes, "edges": self.edges, "options": self.options, "height": self.height,
                "legend": legend, "alt": self.alt}


VIS_NETWORK = "lib/vis-9.1.2/vis-network.min.js"  # pyvis's vis-network, inlined wherever a map is drawn


def drawing_html(drawing: MapDrawing) -> str:
    """The map as one self-contained HTML document (vis-network inlined, no CDN, physics off), drawn by the
    same script as the page's map."""
    return _TEMPLATES.get_template("network.html").render(title=drawing.title, data=drawing.data(), library=VIS_NETWORK)


def map_component_sources() -> tuple[str, str]:
    """The page's map component (atlas.app.network_map): its module, vis-network and network_map.js with
    drawMap as its default export, and its stylesheet."""
    def source(name: str) -> str:
        return _TEMPLATES.loader.get_source(_TEMPLATES, name)[0]
    module = (source(VIS_NETWORK) + "\n" + source("network_map.js")
              + "\nexport default function ({ parentElement, data }) { return drawMap(parentElement, data); }\n")
    return module, source("network_map.css")


def _tooltip(row, min_cell: int | None = None) -> str:
    """Plain text (vis-network shows string titles with innerText, never as HTML). With `min_cell` (board
    and funder views) the figures count only the flows the board's set shows, and say so: an agency whose
    flows are all hidden reads "hidden", never 0."""
    if min_cell is None:
        volume = f"Referrals in {row.in_strength:,} · out {row.out_strength:,}"
    elif row.in_strength or row.out_strength:
        volume = f"Referrals in the flows shown: in {row.in_strength:,} · out {row.out_strength:,} (hidden flows left out)"
    else:
        volume = f"Referrals: {HIDDEN} (every flow it has is hidden)"
    return "\n".join([
        str(row.name_),
        f"{formats.words(row.sector)} · {row.region}",
        volume,
        f"Partners: referred in by {row.in_degree}, refers out to {row.out_degree}",
        f"Brokerage (betweenness) {row.betweenness:.3f} · community {row.community}",
    ] + (["Cut point: its closure would split the network"] if row.articulation else []))


def map_drawing(agencies: pd.DataFrame, flows: pd.DataFrame, ties: pd.DataFrame, choice: MapChoice,
                restricted: bool = False, min_cell: int | None = None, layout: MapLayout | None = None,
                survey_round: dict | None = None) -> MapDrawing:
    """The network as vis-network draws it (physics off, positions from `map_layout`).
    `restricted`: tooltips give no accepted counts and no referral counts of declared ties, and (with
    `min_cell`) say which figures are hidden. `survey_round`: the round whose ties (kind "survey") are drawn."""
    drawn = layout or map_layout(agencies, flows, ties, choice)
    highlight = ego(choice.focus, choice.steps, flows, drawn.ties) if choice.focus else None
    net = Network(height="680px", width="100%", directed=True, cdn_resources="in_line")
    _agency_nodes(net, drawn, choice, highlight, min_cell if restricted else None)
    if choice.cluster_by == "region" and drawn.clusters.nunique() > 1:  # each region's name over its agencies
        _region_captions(net, drawn)
    _tie_edges(net, drawn.ties, choice, highlight, restricted)
    if survey_round is not None:
        survey_edges(net, drawn.ties, choice.layers, lambda a, b: _lit(highlight, a, b), DIMMED, restricted,
                     str(survey_round.get("name") or survey_round.get("round_id")))
    _flow_edges(net, flows, choice, highlight, restricted)
    nodes, edges, *_ = net.get_network_data()
    for node in nodes:  # an agency whose name is not written has no label at all, not a blank one to measure and draw
        if node.get("label") == " ":
            del node["label"]
    shown_ties = sum(1 for e in edges if e.get("arrows") != "to")
    alt = (f"Network map: {len(drawn.agencies):,} agencies, {len(edges) - shown_ties:,} referral flows and "
           f"{shown_ties:,} declared ties; the table under the map lists each with its figures.")
    return MapDrawing(
        title="Collaboration Atlas — network map", nodes=nodes, edges=edges, options=_map_options(drawn.font),
        height=680, alt=alt, sectors=[(name.capitalize(), colour, SECTOR_SHAPES[name], name in DASHED_SECTORS)
                                      for name, colour in SECTOR_COLOURS.items()],
        words=_map_words(choice), lines=_map_lines(choice) + (legend_line(choice.layers) if survey_round else []))


def _lit(highlight: set | None, *agencies: str) -> bool:
    """Whether a mark is drawn in colour: always without a focus, else when all its agencies are in the ego network."""
    return highlight is None or all(a in highlight for a in agencies)


def _agency_nodes(net: Network, drawn: MapLayout, choice: MapChoice, highlight: set | None,
                  min_cell: int | None) -> None:
    """A node per drawn agency: shaped and coloured by sector, sized, named when its label is written (or it is
    in focus), greyed outside the focus; `min_cell` as `_tooltip` takes it."""
    labelled = set(drawn.labelled)
    xy, sizes = drawn.xy, drawn.sizes
    for i, row in enumerate(drawn.agencies.rename(columns={"name": "name_"}).itertuples(index=False)):
        lit = _lit(highlight, row.agency_id)
        show_label = row.agency_id in labelled or (highlight is not None and lit)
        net.add_node(
            row.agency_id,
            label=str(row.name_) if show_label else " ",
            title=_tooltip(row, min_cell),
            x=float(xy[i, 0]), y=float(xy[i, 1]),
            size=float(sizes[i]),
            color=SECTOR_COLOURS.get(row.sector, "#999999") if lit else DIMMED,
            borderWidth=4 if row.agency_id == choice.focus else (2 if row.sector in DASHED_SECTORS else 1),
            shape=SECTOR_SHAPES.get(row.sector, "dot"),
            shapeProperties={"borderDashes": [3, 2]} if row.sector in DASHED_SECTORS else {},
            **({} if lit else {"font": {"color": "rgba(0,0,0,0.25)"}}),  # the rest of the font is the map's own
        )


def _region_captions(net: Network, drawn: MapLayout) -> None:
    font = drawn.font
    for region, top, x in cluster_captions(drawn):
        net.add_node(f"region:{region}", label=region, shape="text", x=x, y=top, physics=False,
                     title=f"{region} (region)", font={"size": round(font * 1.5), "color": "#444444",
                                                       "strokeWidth": font // 5, "strokeColor": "#ffffff"})


def _tie_edges(net: Network, ties: pd.DataFrame, choice: MapChoice, highlight: set | None, restricted: bool) -> None:
    """A line without an arrow per drawn declared tie of the layers shown: dashed when informal, dotted when rated
    low in trust, thicker when dormant."""
    for kind in ("formal", "informal"):
        if kind not in choice.layers:
            continue
        for t in ties[ties["kind"] == kind].itertuples(index=False):
            status = ("no referrals in the period" if t.status == "dormant" else
                      "referrals in the period" if restricted else f"{t.referrals:,} referrals")
            low = pd.notna(t.trust) and t.trust <= 2
            rating = "" if pd.isna(t.trust) and pd.isna(t.value) else " · rated by partners: " + ", ".join(
                f"{name} {int(score)} of 4" for name, score in (("trust", t.trust), ("value", t.value)) if pd.notna(score))
            net.add_edge(t.agency_a_id, t.agency_b_id, arrows={"to": {"enabled": False}},
                         color=TIE_COLOURS[kind] if _lit(highlight, t.agency_a_id, t.agency_b_id) else DIMMED,
                         dashes=[2, 5] if low else kind == "informal", width=2.5 if t.status == "dormant" else 1,
                         title=f"{LAYERS[kind][:-1]}: {instrument_label(t.instrument)} since "
                               f"{formats.date(t.started_on)} — {status}{rating}",
                         smooth=False)


def _flow_edges(net: Network, flows: pd.DataFrame, choice: MapChoice, highlight: set | None,
                restricted: bool) -> None:
    """An arrow per drawn flow, when flows are shown: coloured by the declared tie behind it, thicker for more."""
    if "flows" not in choice.layers or not len(flows):
        return
    top = flows["referrals"].max()
    for f in flows.itertuples(index=False):
        net.add_edge(f.from_agency_id, f.to_agency_id, arrows="to",
                     color=FLOW_COLOURS[f.agreement] if _lit(highlight, f.from_agency_id, f.to_agency_id) else DIMMED,
                     width=float(1 + 7 * np.sqrt(f.referrals / top)),
                     title=f"{f.referrals:,} referrals" + ("" if restricted else f" ({f.accepted:,} accepted)")
                           + f" — {AGREEMENTS[f.agreement].lower()}",
                     smooth={"enabled": True, "type": "curvedCW", "roundness": 0.12})


def _map_options(font: float) -> dict:
    return {
        "physics": {"enabled": False},
        "interaction": {"hover": True, "tooltipDelay": 80, "navigationButtons": False, "multiselect": False},
        "nodes": {"font": {"face": MAP_FONT, "size": font, "color": "#222222",
                           "strokeWidth": font // 6, "strokeColor": "#ffffff"}},
        "edges": {"selectionWidth": 2, "hoverWidth": 1},
    }


def _map_words(choice: MapChoice) -> str:
    """The legend's sentence: what the marks and lines of the layers shown mean."""
    return ("Each mark is an agency, shaped and coloured by its sector and sized by " + SIZE_MEASURES[choice.size_by].lower()
            + ". " + ("An arrow is a referral flow from the agency that referred to the one that received: the "
                      "thicker, the more referrals. " if "flows" in choice.layers else "")
            + "A line without an arrow is a declared tie"
            + (", or (dash-dotted) a tie members named in the partnership survey" if "survey" in choice.layers else "")
            + ". " + CLUSTER_WORDS[choice.cluster_by]
            + " Hover any of them for its figures.")


def _map_lines(choice: MapChoice) -> list[tuple[str, str, str]]:
    """The legend's lines of the layers shown."""
    lines = [(LAYERS["formal"], TIE_COLOURS["formal"], "solid"), (LAYERS["informal"], TIE_COLOURS["informal"], "dashed"),
             ("Tie rated low in trust (1–2)", "#555555", "dotted")]
    lines += [(f"Flow, {label}", FLOW_COLOURS[key], "solid")
              for key, label in (("formal", "formal agreement"), ("informal", "informal tie"), ("none", "no declared tie"))]
    return [line for line in lines if ("Flow" in line[0] and "flows" in choice.layers)
            or line[0] in {LAYERS[k] for k in choice.layers}
            or (line[2] == "dotted" and {"formal", "informal"} & set(choice.layers))]


def summary_drawing(nodes: pd.DataFrame, between: pd.DataFrame, by: str = "region", hidden: tuple = ()) -> MapDrawing:
    """The summary map: one dot per group on a circle (same data, same picture), sized by its referrals, with
    an arrow for each ordered pair of groups that may be shown (`between`'s `shown`, when it has one), thicker
    for more and labelled with its count. A figure of `hidden` (SummaryView.hidden) reads "hidden" in its
    tooltip, as in the table, and a dot whose referrals are hidden is drawn at the smallest size."""
    hidden = dict(hidden)
    sized = nodes.assign(referrals=[0 if "referrals" in hidden.get(g, ()) else n
                                    for g, n in zip(nodes["group"], nodes["referrals"])])
    xy, sizes = summary_positions(sized)
    if "shown" in between:
        between = between[between["shown"]]
    net = Network(height="560px", width="100%", directed=True, cdn_resources="in_line")
    kind = SUMMARY_BY[by].lower()

    def figure(row, column: str) -> str:
        return HIDDEN if column in hidden.get(row.group, ()) else formats.count(getattr(row, column))

    for i, row in enumerate(nodes.itertuples(index=False)):
        net.add_node(str(row.group), label=group_label(by, row.group),
                     x=float(xy[i, 0]), y=float(xy[i, 1]),
                     size=float(sizes[i]), color=GROUP_COLOUR, shape="dot",
                     title="\n".join([f"{group_label(by, row.group)} ({kind})",
                                       f"{row.agencies:,} agencies",
                                       f"Referrals within the {kind}: {figure(row, 'within')}",
                                       f"To other {kind}s: {figure(row, 'sent')} · from other {kind}s: "
                                       f"{figure(row, 'received')}"]),
                     font={"face": MAP_FONT, "size": 22, "color": "#222222", "strokeWidth": 4, "strokeColor": "#ffffff"})
    heaviest = max(1, int(between["referrals"].max())) if len(between) else 1
    def name(group):
        return group_label(by, group)

    for f in between.itertuples(index=False):
        net.add_edge(str(f.from_group), str(f.to_group), arrows="to", color="#f3722c",
                     width=float(1 + 11 * np.sqrt(f.referrals / heaviest)), label=formats.count(f.referrals),
                     font={"face": MAP_FONT, "size": 14, "color": "#222222", "strokeWidth": 3,
                           "strokeColor": "#ffffff", "align": "middle"},
                     title=f"{formats.count(f.referrals)} referrals from {name(f.from_group)} to {name(f.to_group)}",
                     smooth={"enabled": True, "type": "curvedCW", "roundness": 0.15})
    options = {"physics": {"enabled": False},
               "interaction": {"hover": True, "tooltipDelay": 80, "navigationButtons": False}}
    nodes_data, edges_data, *_ = net.get_network_data()
    words = (f"Each dot is a {kind}, sized by the referrals its agencies made and received; an arrow is the "
             f"referrals from one {kind}'s agencies to another's, thicker for more. Hover for the figures; open the "
             f"agency map of one {kind} below the map.")
    alt = (f"The network by {kind}: {len(nodes_data):,} {kind}s and {len(edges_data):,} arrows of referrals between "
           "them; the table under the map lists each with its figures.")
    return MapDrawing(title=f"Collaboration Atlas — the network by {kind}", nodes=nodes_data, edges=edges_data,
                      options=options, height=560, sectors=[], lines=[("Referrals between them", "#f3722c", "solid")],
                      words=words, alt=alt)
