"""What the network map can be asked to show: its layers, size measures and clusterings, and the
board member's choice of them (`MapChoice`). The vocabulary of the map's request, below the
computing (scores, layout) and presenting (drawing, tables) modules of the package."""

from __future__ import annotations

from dataclasses import dataclass

LAYERS = {"formal": "Formal agreements", "informal": "Informal ties", "survey": "Informal (survey)",
          "flows": "Referral flows"}
TIE_KINDS = ("formal", "informal", "survey")  # the layers drawn as lines without arrows (survey: issue 32)
SIZE_MEASURES = {"volume": "Referral volume", "degree": "Partners (degree)", "betweenness": "Brokerage (betweenness)"}
CLUSTER_BY = {"community": "Communities (who refers to whom)", "region": "Regions"}
SUMMARY_BY = {"region": "Region", "sector": "Sector"}


@dataclass(frozen=True)
class MapChoice:
    """What the board member asked the map to show."""

    layers: tuple[str, ...] = tuple(LAYERS)
    size_by: str = "volume"
    min_referrals: int = 1  # flows below this are not drawn (or scored)
    top_edges: int = 150  # at most this many flows (the strongest) and as many declared ties
    focus: str | None = None  # an agency whose ego network is highlighted
    steps: int = 1  # 1 or 2 steps out from the focus
    group: tuple[str, str] | None = None  # ("region" or "sector", value): the agency map of that group only
    cluster_by: str = "community"  # the agencies are laid out in clusters of this (a key of CLUSTER_BY)


def default_choice(min_cell: int | None = None) -> MapChoice:
    """The map as the page first draws it (its controls' defaults): flows of 5 referrals or more, or of at
    least min_cell in the board's and funders' views."""
    return MapChoice(min_referrals=max(5, min_cell or 1))
