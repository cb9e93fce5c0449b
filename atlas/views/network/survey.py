"""The map's informal layer from the partnership survey (issue 32): the ties of the latest closed round whose
period overlaps the period shown, drawn beside the declared ties and the real flows as "Informal (survey)".

Loading (`survey_ties`) reads the round through the named queries (`survey_round_for_period`, `survey_ties`
with rule `either`) and applies the privacy rules as it reads: a tie with a victim-service agency is never
drawn (as on the rest of the map), and outside director views a tie carries no rating at all (a tie has at most
two raters: its level, frequency, trust and value would be one or two respondents' answers). Presenting
(`survey_edges`, `legend_line`, `with_survey_rows`) draws and lists them. The survey ties travel in the map's ties
frame as kind "survey", so the layout places their agencies; the declared-tie lists (dormant agreements,
formal versus real, a focus agency's declared ties) never count them."""

from __future__ import annotations

import pandas as pd

from atlas import escape, formats
from atlas.filters import Filters
from atlas.views import privacy

KIND = "survey"
COLOUR = "#8a5a9e"  # apart from the declared ties' blue and green and the flows' colours
DASHES = [10, 4, 2, 4]  # dash-dot: apart from an informal tie's dashes and a low-trust tie's dots
# bowed the other way from the flows' curve, so a pair's survey tie stands apart from its declared tie (straight)
CURVE = {"enabled": True, "type": "curvedCCW", "roundness": 0.18}
RATINGS = ("reports", "level", "frequency", "trust", "value")  # per tie: directors' views only
LEVELS = {1: "networking", 2: "cooperation", 3: "coordination", 4: "coalition", 5: "collaboration"}
COLUMNS = ["agency_a_id", "agency_b_id", "kind", "instrument", "started_on", "ended_on", "status", "referrals",
           "trust", "value", *RATINGS[:3], "round_id", "round_name"]


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


def round_shown(db, filters: Filters) -> dict | None:
    """The round whose ties are the informal (survey) layer for the period asked for (`survey_round_for_period`:
    the latest closed round overlapping it), None when there is none; one cached row, so the page can ask it
    before it offers the map's layers."""
    found = db.query("survey_round_for_period", start=filters.start, end=filters.end)
    return None if found.empty else found.iloc[0].to_dict()


def offered_layers(layers: dict[str, str], round_: dict | None) -> dict[str, str]:
    """The map's layers as the page offers them: without the informal (survey) layer when no closed round covers
    the period (a layer that could only be empty is not a choice), and with the round's name when one does
    (Markdown, as the pills read it: the name is a director's text, escaped)."""
    if round_ is None:
        return {k: v for k, v in layers.items() if k != KIND}
    name = escape.markdown(str(round_.get("name") or round_.get("round_id")))
    return {**layers, KIND: f"{layers[KIND][:-1]}: {name})"}


def survey_ties(db, filters: Filters, protected: set[str], restricted: bool) -> tuple[dict | None, pd.DataFrame]:
    """(the round shown, or None; its ties as rows of the map's ties frame, kind "survey"). With `restricted`
    (board and funder views) the rows carry no rating."""
    chosen = round_shown(db, filters)
    if chosen is None:
        return None, empty()
    ties = db.query("survey_ties", round_id=chosen["round_id"], rule="either")
    ties = privacy.shown_rows(ties, protected, privacy.TIE_ENDS).reset_index(drop=True)
    rows = pd.DataFrame({
        "agency_a_id": ties["agency_a_id"], "agency_b_id": ties["agency_b_id"], "kind": KIND, "instrument": None,
        "started_on": chosen.get("period_start"), "ended_on": chosen.get("period_end"), "status": KIND,
        "referrals": 0, "round_id": chosen["round_id"], "round_name": chosen.get("name") or chosen["round_id"]})
    for column in RATINGS:
        rows[column] = pd.NA if restricted else ties[column].astype("Float64")
    kept = {k: chosen.get(k) for k in ("round_id", "name", "period_start", "period_end")}
    return kept, rows[COLUMNS]


def round_of(ties: pd.DataFrame) -> dict | None:
    """The survey round whose ties the frame holds (each survey row carries it), None when it holds none."""
    rows = ties[ties["kind"] == KIND] if "round_id" in ties else ties.head(0)
    if not len(rows):
        return None
    first = rows.iloc[0]
    return {"round_id": first["round_id"], "name": first["round_name"], "period_start": first["started_on"],
            "period_end": first["ended_on"]}


def split(ties: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(declared ties, survey ties) of a ties frame that holds both."""
    survey = ties["kind"] == KIND
    return ties[~survey], ties[survey]


def _tooltip(t, restricted: bool, round_name: str) -> str:
    if restricted or pd.isna(t.level):
        return f"Informal (survey): named in {round_name}"
    level = LEVELS.get(int(float(t.level) + 0.5), "")
    parts = [f"named by {'both' if t.reports == 2 else 'one side'}",
             f"level {float(t.level):.1f} of 5 ({level})", f"frequency {float(t.frequency):.1f} of 5"]
    parts += [f"{name} {float(score):.1f} of 4" for name, score in (("trust", t.trust), ("value", t.value))
              if pd.notna(score)]
    return f"Informal (survey, {round_name}): " + " · ".join(parts)


def survey_edges(net, ties: pd.DataFrame, layers, lit, dimmed: str, restricted: bool, round_name: str) -> None:
    """A line without an arrow per survey tie drawn (`lit(a, b)`: whether it is in colour), thicker for a
    higher level in director views."""
    if KIND not in layers:
        return
    for t in ties[ties["kind"] == KIND].itertuples(index=False):
        width = 1.0 if restricted or pd.isna(t.level) else 0.5 + float(t.level) / 2
        net.add_edge(t.agency_a_id, t.agency_b_id, arrows={"to": {"enabled": False}}, smooth=CURVE,
                     color=COLOUR if lit(t.agency_a_id, t.agency_b_id) else dimmed, dashes=DASHES, width=width,
                     title=_tooltip(t, restricted, round_name))


def legend_line(layers) -> list[tuple[str, str, str]]:
    return [("Informal (survey)", COLOUR, "dashed")] if KIND in layers else []


def with_survey_rows(declared: pd.DataFrame, layout, choice, restricted: bool) -> pd.DataFrame:
    """The map's ties table (tables.map_ties_table) with a row per survey tie drawn, under the same headings:
    kind "Informal (survey)", no date (the map's caption names the round and its period), no referral count,
    and in director views its trust and value (means, 1 to 4) and who named it, level and frequency (columns the
    declared ties leave empty)."""
    rows = layout.ties[layout.ties["kind"] == KIND] if KIND in choice.layers else layout.ties.head(0)
    if not len(rows):
        return declared
    names = dict(zip(layout.agencies["agency_id"], layout.agencies["name"].astype(str)))

    def rating(values: pd.Series, top: int) -> list[str]:
        return [formats.MISSING if restricted or pd.isna(v) else f"{float(v):.1f} of {top}" for v in values]

    rows = rows.assign(_a=rows["agency_a_id"].map(names), _b=rows["agency_b_id"].map(names)).sort_values(["_a", "_b"])
    survey = pd.DataFrame({
        "Agency A": rows["_a"], "Agency B": rows["_b"], "Kind": "Informal (survey)", "Instrument": "",
        "Since": formats.MISSING, "Referrals in the period": formats.MISSING,  # the round's period: the caption's
        "Trust": rating(rows["trust"], 4), "Value": rating(rows["value"], 4)})
    if not restricted:
        survey["Named by"] = ["both" if n == 2 else "one side" for n in rows["reports"]]
        survey["Level"] = rating(rows["level"], 5)
        survey["Frequency"] = rating(rows["frequency"], 5)
    return pd.concat([declared, survey], ignore_index=True).fillna(formats.MISSING)
