"""The Board's network map: the declared network (formal and informal ties) laid over the real one
(referral flows), with the scores that say who brokers, who is central and who is a single point of
failure. Victim-service agencies are never drawn, named or scored; the referrals that involve them are
only counted.

The package follows the view's layers:

* loading — `load`: `build(db, filters, choice, min_cell)` and `summary_view(...)` read the named queries,
  apply the privacy rules once (atlas.views.privacy, atlas.views.suppression) and return views that hold
  data only (`NetworkView`, `SummaryView`);
* computing — `scores` (igraph scores, cut points, ego networks, formal versus real), `layout` and
  `labels` (where each agency is drawn and which names are written), `summary` (the network by region or
  sector); `choice` is what the map can be asked to show;
* presenting — `drawing` (`MapDrawing`: what vis-network draws, and the HTML document), `style` (colours,
  shapes, words), `tables`, `sections` (the page's sections and sentences) and `exports` (GEXF, GraphML,
  CSV).

Callers use `from atlas.views import network` and `network.X`: the names below are that surface."""

from dataclasses import replace

from atlas.views.network.choice import (
    CLUSTER_BY,
    LAYERS,
    SIZE_MEASURES,
    SUMMARY_BY,
    TIE_KINDS,
    MapChoice,
    default_choice,
)
from atlas.views.network.drawing import (
    VIS_NETWORK,
    MapDrawing,
    drawing_html,
    map_component_sources,
    map_drawing,
    summary_drawing,
)
from atlas.views.network.exports import gexf, graphml, one_way_csv, scores_csv, to_networkx
from atlas.views.network.labels import LABELLED_NODES, _overlap, label_box, readable_labels
from atlas.views.network.layout import (
    CLUSTER_GAP,
    FRAME_ASPECT,
    KAMADA_KAWAI_UP_TO,
    MapLayout,
    _clustered_layout,
    _layout,
    _sizes,
    _spread,
    cluster_captions,
    drawn_agencies,
    layout_clusters,
    map_layout,
    map_ties,
    positions,
    readability,
)
from atlas.views.network.load import NetworkView, SummaryView, build, summary_view
from atlas.views.network.scores import (
    BETWEENNESS_SOURCES,
    EXACT_BETWEENNESS_UP_TO,
    SEED,
    FormalVersusReal,
    _betweenness,
    cut_off_by,
    ego,
    formal_versus_real,
    score,
    without_agreement,
)
from atlas.views.network.sections import (
    CHANGE,
    CLOSURE,
    CLOSURE_SHARES,
    CLOSURE_WORDS,
    DIRECTOR_SECTIONS,
    FORMAL_REAL,
    PAGE_SECTIONS,
    QUALITY,
    QUALITY_WORDS,
    RESTRICTED_SCORES,
    SCORES,
    SECTIONS,
    Section,
    drawn_caption,
    focus_caption,
    formal_real_figures,
    informal_caption,
    map_table_caption,
    pack_words,
    quality_figures,
    region_formal_caption,
    scores_words,
    section_titles,
    strained_caption,
    summary_caption,
)
from atlas.views.network.style import (
    AGREEMENTS,
    CLUSTER_WORDS,
    DASHED_SECTORS,
    DIMMED,
    FLOW_COLOURS,
    HIDDEN,
    MAP_FONT,
    PLOTLY_SYMBOLS,
    SECTOR_COLOURS,
    SECTOR_SHAPES,
    TIE_COLOURS,
    plotly_symbol,
)
from atlas.views.network.summary import summary, summary_positions
from atlas.views.network.tables import (
    SCORE_COLUMNS,
    dormant_agreements,
    informal_flows,
    map_agencies_table,
    map_flows_table,
    map_ties_table,
    one_way_pairs,
    partners,
    region_formal_table,
    scores_table,
    summary_flows_table,
    summary_table,
)
from atlas.views.suppression import complement_flows

__all__ = [
    "AGREEMENTS", "BETWEENNESS_SOURCES", "CHANGE", "CLOSURE", "CLOSURE_SHARES", "CLOSURE_WORDS", "CLUSTER_BY",
    "CLUSTER_GAP", "CLUSTER_WORDS", "DASHED_SECTORS", "DIMMED", "DIRECTOR_SECTIONS", "EXACT_BETWEENNESS_UP_TO",
    "FLOW_COLOURS", "FORMAL_REAL", "FRAME_ASPECT", "HIDDEN", "KAMADA_KAWAI_UP_TO", "LABELLED_NODES", "LAYERS",
    "MAP_FONT", "PAGE_SECTIONS", "PLOTLY_SYMBOLS", "QUALITY", "QUALITY_WORDS", "RESTRICTED_SCORES", "SCORES",
    "SCORE_COLUMNS", "SECTIONS", "SECTOR_COLOURS", "SECTOR_SHAPES", "SEED", "SIZE_MEASURES", "SUMMARY_BY",
    "TIE_COLOURS", "TIE_KINDS", "VIS_NETWORK", "FormalVersusReal", "MapChoice", "MapDrawing", "MapLayout", "NetworkView",
    "Section", "SummaryView", "_betweenness", "_clustered_layout", "_layout", "_overlap", "_sizes", "_spread",
    "build", "cluster_captions", "complement_flows", "cut_off_by", "default_choice", "dormant_agreements",
    "drawing_html", "drawn_agencies", "drawn_caption", "ego", "focus_caption", "formal_real_figures",
    "formal_versus_real", "gexf", "graphml", "informal_caption", "informal_flows", "label_box", "layout_clusters",
    "map_agencies_table", "map_component_sources", "map_drawing", "map_layout", "map_table_caption", "map_ties",
    "map_ties_table", "map_flows_table", "one_way_csv", "one_way_pairs", "pack_words", "partners", "plotly_symbol",
    "positions", "quality_figures", "readability", "readable_labels", "region_formal_caption", "region_formal_table", "replace", "score", "scores_csv",
    "scores_table", "scores_words", "section_titles", "strained_caption", "summary", "summary_caption",
    "summary_drawing", "summary_flows_table", "summary_positions", "summary_table", "summary_view", "to_networkx",
    "without_agreement",
]
