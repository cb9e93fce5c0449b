"""The board pack's partnership-survey part (issue 32): the round of the pack's period as round-level figures
(members invited and answering, the response rate and what it allows one to read, ties, reciprocity, density,
mean trust and value) and its ties on the agency map's picture as lines without ratings. Nothing of a
respondent's answers, no tie's ratings, an agency's trust and value received only from three or more raters
(the pack's "How partners rate each agency", from atlas.views.ties): the board's share of the survey
(atlas.views.survey.board; the map's survey ties are atlas.views.network.survey's, drawn there already without
ratings and without a victim-service agency's tie). Kept apart from board.py, which calls it in three places.
Pure: no Streamlit."""

from __future__ import annotations

import plotly.graph_objects as go

from atlas.views import network, survey
from atlas.views.network.survey import COLOUR, KIND


def section(found: survey.BoardSurvey | None) -> dict | None:
    """What the pack's survey section prints (None without a round for the period): title, the reading of the
    response rate, the figures as (label, value, meaning) and the note on what is left out."""
    if found is None:
        return None
    return {"title": survey.period_words(found.round), "reading": found.reading, "figures": found.figures,
            "note": "The figures are the whole round's, every member's answers counted. The map draws the ties "
                    "members named (dash-dotted) without their ratings: a tie has at most two raters. How partners "
                    "rate each agency lists an agency only where three or more members rated it (its \"rated "
                    "ties\" are its raters), never counting a victim-service member's ratings; no victim-service "
                    "agency is shown here."}


def lines(fig: go.Figure, layout: network.MapLayout, choice: network.MapChoice, where: dict, segments) -> None:
    """The survey's ties on the agency picture, when its layer is drawn: one trace of lines without ratings
    (`segments` as board._segments draws a line)."""
    if KIND not in choice.layers or layout is None:
        return
    rows = layout.ties[layout.ties["kind"] == KIND]
    rows = rows[rows["agency_a_id"].isin(where) & rows["agency_b_id"].isin(where)]
    if not len(rows):
        return
    a = rows["agency_a_id"].map(where).to_numpy()
    b = rows["agency_b_id"].map(where).to_numpy()
    xs, ys = segments(layout.xy[a, 0], layout.xy[a, 1], layout.xy[b, 0], layout.xy[b, 1])
    fig.add_scatter(x=xs, y=ys, mode="lines", name=network.LAYERS[KIND], hoverinfo="skip",
                    line=dict(color=COLOUR, width=1, dash="dashdot"))
