"""How the network maps mark what they draw: the sectors' colours and shapes, the colours of ties and
flows, the words for a flow's declared tie and for a hidden figure. Presenting layer: shared by the
interactive map (drawing), its tables and the board pack's static pictures."""

from __future__ import annotations

# Okabe & Ito's palette, told apart with each common colour-vision deficiency (tests/test_accessibility.py simulates
# them: every pair at least 10 CIEDE2000 apart), and a shape per sector, so that the sector is never read from
# colour alone (the legend draws each shape; the tooltip names the sector). vis-network draws seven marker
# shapes with the name outside: the eighth sector is a dot with a dashed border.
SECTOR_COLOURS = {
    "government": "#0072b2", "nonprofit": "#d55e00", "faith": "#cc79a7", "health": "#009e73",
    "education": "#e69f00", "business": "#555555", "justice": "#56b4e9", "community": "#f0e442",
}
SECTOR_SHAPES = {
    "government": "square", "nonprofit": "dot", "faith": "triangle", "health": "diamond",
    "education": "star", "business": "triangleDown", "justice": "hexagon", "community": "dot",
}
DASHED_SECTORS = frozenset({"community"})
# the same marks in plotly (the board pack's map picture), where a dashed border is not drawn: a dot with a cross
PLOTLY_SYMBOLS = {"square": "square", "dot": "circle", "triangle": "triangle-up", "diamond": "diamond", "star": "star",
                  "triangleDown": "triangle-down", "hexagon": "hexagon"}
TIE_COLOURS = {"formal": "#577590", "informal": "#90be6d"}
FLOW_COLOURS = {"formal": "#577590", "informal": "#43aa8b", "none": "#f3722c"}
AGREEMENTS = {"formal": "Formal agreement", "informal": "Informal tie", "none": "No declared tie"}  # a flow's
DIMMED = "rgba(200,200,200,0.35)"
MAP_FONT = "Source Sans, Source Sans Pro, sans-serif"  # the page's own font first, as the legend (network_map.css)
GROUP_COLOUR = "#577590"  # a region's or sector's dot on the summary map
CLUSTER_WORDS = {  # the legend's sentence on how the dots are grouped
    "community": "Agencies that refer mostly among themselves are drawn together; lines that cross the gaps "
                 "between groups are the bridges.",
    "region": "Each region's agencies are drawn together; lines that cross the gaps between regions are the bridges.",
}
# a figure the small-cell rule withholds reads this, never 0 and never its count
HIDDEN = "hidden"


def plotly_symbol(sector: str) -> str:
    return "circle-x" if sector in DASHED_SECTORS else PLOTLY_SYMBOLS[SECTOR_SHAPES.get(sector, "dot")]
