"""The network map's tables, as the page, the board pack and the downloads show them: the scores under
readable headings, the lists of formal versus real (flows without an agreement, dormant agreements,
one-way pairs), a focus agency's partners, the map as a table (its agencies, flows and ties, as their
tooltips say) and the summary map's tables. Presenting layer: frames of display values, built from the
computed frames; with `min_cell` (board and funder views) a withheld figure reads HIDDEN or "fewer than
min_cell", never its count."""

from __future__ import annotations

import pandas as pd

from atlas import formats
from atlas.views.network.choice import LAYERS, SUMMARY_BY, MapChoice
from atlas.views.network.layout import MapLayout
from atlas.views.network.scores import without_agreement
from atlas.views.network.style import AGREEMENTS, HIDDEN
from atlas.vocab import group_label, instrument_label, label

SCORE_COLUMNS = {
    "name": "Agency", "sector": "Sector", "region": "Region", "community": "Community",
    "in_degree": "Referred in by (agencies)", "out_degree": "Refers out to (agencies)",
    "in_strength": "Referrals in", "out_strength": "Referrals out", "betweenness": "Brokerage (betweenness)",
    "articulation": "Cut point",
}


def scores_table(scored: pd.DataFrame) -> pd.DataFrame:
    """The scored agencies under readable headings, strongest brokers first."""
    return scored.sort_values("betweenness", ascending=False)[list(SCORE_COLUMNS)].rename(columns=SCORE_COLUMNS)


def _pair_names(frame: pd.DataFrame, a: str, b: str, names: dict) -> pd.DataFrame:
    return frame.assign(**{"From" if a.startswith("from") else "Agency A": frame[a].map(names),
                           "To" if b.startswith("to") else "Agency B": frame[b].map(names)})


def informal_flows(flows: pd.DataFrame, names: dict, top: int = 25, accepted: bool = True) -> pd.DataFrame:
    """Heavy referral traffic with no formal agreement (candidates for an MOU), heaviest first."""
    rows = flows[without_agreement(flows)].nlargest(top, "referrals")
    rows = _pair_names(rows, "from_agency_id", "to_agency_id", names)
    rows = rows.assign(agreement=rows["agreement"].map(AGREEMENTS))
    columns = ["From", "To", "Referrals"] + (["Accepted"] if accepted else []) + ["Declared tie"]
    return rows.rename(columns={"referrals": "Referrals", "accepted": "Accepted", "agreement": "Declared tie"})[
        columns].reset_index(drop=True)


def dormant_agreements(ties: pd.DataFrame, names: dict) -> pd.DataFrame:
    """Declared agreements in force in the period that carried no referral either way."""
    rows = ties[ties["status"] == "dormant"].sort_values(["kind", "started_on"])
    rows = _pair_names(rows, "agency_a_id", "agency_b_id", names)
    rows = rows.assign(kind=rows["kind"].map(label), instrument=rows["instrument"].map(instrument_label),
                       started_on=pd.to_datetime(rows["started_on"]).dt.date)
    return rows.rename(columns={"kind": "Kind", "instrument": "Instrument", "started_on": "Since"})[
        ["Agency A", "Agency B", "Kind", "Instrument", "Since"]].reset_index(drop=True)


def one_way_pairs(flows: pd.DataFrame, names: dict, min_referrals: int = 10,
                  every_flow: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pairs where at least `min_referrals` referrals went one way and none came back (judged on
    `every_flow`, the flows before any threshold, when given: a small flow back is still a flow)."""
    back = flows if every_flow is None else every_flow
    reverse = back[["to_agency_id", "from_agency_id"]].set_axis(["from_agency_id", "to_agency_id"], axis=1)
    marked = flows.merge(reverse.assign(returned=True), how="left", on=["from_agency_id", "to_agency_id"])
    rows = flows[marked["returned"].isna().to_numpy() & (flows["referrals"] >= min_referrals).to_numpy()]
    rows = _pair_names(rows.sort_values("referrals", ascending=False), "from_agency_id", "to_agency_id", names)
    rows = rows.assign(agreement=rows["agreement"].map(AGREEMENTS))
    return rows.rename(columns={"referrals": "Referrals", "agreement": "Declared tie"})[
        ["From", "To", "Referrals", "Declared tie"]].reset_index(drop=True)


def partners(focus: str, flows: pd.DataFrame, ties: pd.DataFrame, names: dict,
             every_flow: pd.DataFrame | None = None, min_cell: int | None = None) -> pd.DataFrame:
    """The focus agency's partners: referrals each way and the declared ties between them. With
    `min_cell`, a flow that is not shown reads "hidden" (neither its count nor whether it is small is given:
    the board's set hides larger flows too, to protect small ones)."""
    out = flows[flows["from_agency_id"] == focus].set_index("to_agency_id")["referrals"]
    into = flows[flows["to_agency_id"] == focus].set_index("from_agency_id")["referrals"]
    if min_cell is not None and every_flow is not None:
        small = HIDDEN
        raw_out = every_flow[every_flow["from_agency_id"] == focus].set_index("to_agency_id")["referrals"]
        raw_in = every_flow[every_flow["to_agency_id"] == focus].set_index("from_agency_id")["referrals"]
        out = raw_out.astype(object).where(raw_out.index.isin(out.index), small)
        into = raw_in.astype(object).where(raw_in.index.isin(into.index), small)
    declared = {}
    for t in ties.itertuples(index=False):
        if focus in (t.agency_a_id, t.agency_b_id):
            other = t.agency_b_id if t.agency_a_id == focus else t.agency_a_id
            declared.setdefault(other, []).append(f"{label(t.kind).lower()} ({instrument_label(t.instrument)})")
    others = sorted(set(out.index) | set(into.index) | set(declared))
    table = pd.DataFrame({
        "Partner": [names.get(o, "(not shown)") for o in others],
        "Referrals sent to them": [_count(out.get(o, 0)) for o in others],
        "Referrals from them": [_count(into.get(o, 0)) for o in others],
        "Declared ties": [", ".join(declared.get(o, [])) or "none" for o in others],
    })
    table = table[table["Partner"] != "(not shown)"]
    if min_cell is not None:  # counts and "fewer than" side by side: text columns, busiest partners first
        order = table[["Referrals sent to them", "Referrals from them"]].map(
            lambda v: v if isinstance(v, int) else 0).sum(axis=1)
        return table.assign(_order=order).sort_values(["_order", "Partner"], ascending=[False, True]) \
            .drop(columns="_order").astype({"Referrals sent to them": str, "Referrals from them": str}) \
            .reset_index(drop=True)
    return table.sort_values(["Referrals sent to them", "Referrals from them"], ascending=False).reset_index(drop=True)


def _count(value):
    return value if isinstance(value, str) else int(value)


def map_agencies_table(layout: MapLayout, min_cell: int | None = None) -> pd.DataFrame:
    """The agencies the map draws, one row each in order of name, with what its tooltip says: sector (in words),
    region, referrals in and out, partners each way. With `min_cell` (board and funder views) the referrals count
    only the flows drawn, of at least min_cell, and an agency whose flows are all smaller reads "hidden" (as its
    tooltip does), never 0."""
    rows = layout.agencies.sort_values(["name", "agency_id"], key=lambda c: c.astype(str).str.casefold())

    def referrals(row, column: str) -> str:
        if min_cell is not None and not (row.in_strength or row.out_strength):
            return HIDDEN
        return formats.count(getattr(row, column))

    table = pd.DataFrame({
        "Agency": rows["name"].astype(str),
        "Sector": rows["sector"].map(formats.words),
        "Region": rows["region"].astype(str),
        "Referrals in": [referrals(r, "in_strength") for r in rows.itertuples(index=False)],
        "Referrals out": [referrals(r, "out_strength") for r in rows.itertuples(index=False)],
        "Referred in by (agencies)": rows["in_degree"].map(formats.count),
        "Refers out to (agencies)": rows["out_degree"].map(formats.count),
    })
    return table.reset_index(drop=True)


def map_flows_table(layout: MapLayout, choice: MapChoice, restricted: bool = False) -> pd.DataFrame:
    """The referral flows the map draws (its arrows), heaviest first: from, to, referrals, (directors) accepted,
    and the declared tie between the two agencies, as each arrow's tooltip says; empty when flows are not shown."""
    names = dict(zip(layout.agencies["agency_id"], layout.agencies["name"].astype(str)))
    flows = layout.flows if "flows" in choice.layers else layout.flows.head(0)
    flows = flows.assign(_from=flows["from_agency_id"].map(names), _to=flows["to_agency_id"].map(names)) \
        .sort_values(["referrals", "_from", "_to"], ascending=[False, True, True])
    table = pd.DataFrame({"From": flows["_from"], "To": flows["_to"], "Referrals": flows["referrals"].map(formats.count)})
    if not restricted:
        table["Accepted"] = flows["accepted"].map(formats.count)
    table["Declared tie"] = flows["agreement"].map(AGREEMENTS)
    return table.reset_index(drop=True)


def _rating(score) -> str:
    return formats.MISSING if pd.isna(score) else f"{int(score)} of 4"


def map_ties_table(layout: MapLayout, choice: MapChoice, restricted: bool = False) -> pd.DataFrame:
    """The declared ties the map draws (its lines without arrows): the two agencies, the kind (formal agreement or
    informal tie), instrument, since when, the referrals between them in the period and the partners' ratings
    (trust and value, 1 to 4, where given), as each line's tooltip says. Board and funder views give no referral
    count of a tie: it reads "hidden" (0 where the tie carried none, as its tooltip says)."""
    names = dict(zip(layout.agencies["agency_id"], layout.agencies["name"].astype(str)))
    ties = layout.ties[layout.ties["kind"].isin([k for k in ("formal", "informal") if k in choice.layers])]
    ties = ties.assign(_a=ties["agency_a_id"].map(names), _b=ties["agency_b_id"].map(names)) \
        .sort_values(["kind", "_a", "_b", "started_on"])
    carried = [formats.count(0) if status == "dormant" else HIDDEN if restricted else formats.count(n)
               for status, n in zip(ties["status"], ties["referrals"])]
    return pd.DataFrame({
        "Agency A": ties["_a"], "Agency B": ties["_b"],
        "Kind": ties["kind"].map(lambda k: LAYERS[k][:-1]),
        "Instrument": ties["instrument"].map(instrument_label),
        "Since": ties["started_on"].map(formats.date),
        "Referrals in the period": carried,
        "Trust": ties["trust"].map(_rating), "Value": ties["value"].map(_rating),
    }).reset_index(drop=True)


def summary_table(nodes: pd.DataFrame, by: str, hidden: tuple = ()) -> pd.DataFrame:
    """The summary map as a table: each group (region or sector) with its agencies and referrals, a figure of
    `hidden` (SummaryView.hidden) written HIDDEN, as the map's tooltips write it."""
    kind = SUMMARY_BY[by]
    out = nodes.copy()
    hidden = dict(hidden)
    for column in ("within", "sent", "received", "referrals"):  # written as the map's tooltips write them
        out[column] = [HIDDEN if column in hidden.get(g, ()) else formats.count(v)
                       for g, v in zip(out["group"], out[column])]
    out = out.rename(columns={"group": kind, "agencies": "Agencies", "within": f"Within the {kind.lower()}",
                              "sent": f"To other {kind.lower()}s", "received": f"From other {kind.lower()}s",
                              "referrals": "Referrals"})
    out[kind] = [group_label(by, g) for g in out[kind]]
    return out


def summary_flows_table(between: pd.DataFrame, by: str) -> pd.DataFrame:
    """Every ordered pair of groups with referrals between them, heaviest first: the summary map's arrows, and
    HIDDEN (listed after them) for a pair the board's set does not show."""
    def name(group):
        return group_label(by, group)

    shown = between["shown"] if "shown" in between else pd.Series(True, index=between.index)
    rows = between.assign(_shown=shown.astype(bool), _n=between["referrals"].where(shown, -1)) \
        .sort_values(["_n", "from_group", "to_group"], ascending=[False, True, True])
    kind = SUMMARY_BY[by]
    return pd.DataFrame({f"From {kind.lower()}": rows["from_group"].map(name),
                         f"To {kind.lower()}": rows["to_group"].map(name),
                         "Referrals": [formats.count(n) if s else HIDDEN
                                       for n, s in zip(rows["referrals"], rows["_shown"])]}).reset_index(drop=True)


def region_formal_table(pairs: pd.DataFrame | None) -> pd.DataFrame:
    """Formal versus real by ordered pair of regions, heaviest first: the referrals from one region's agencies to
    another's, those over a formal agreement in force between the two agencies and those without one, and the
    share without; a figure the board's set does not show reads HIDDEN (and so does a share built on it)."""
    columns = ["From region", "To region", "Referrals", "Over a formal agreement", "Without one", "Share without"]
    if pairs is None or not len(pairs):
        return pd.DataFrame(columns=columns)
    rows = pairs.sort_values(["referrals", "from_group", "to_group"], ascending=[False, True, True])
    out = []
    for r in rows.to_dict("records"):
        shown, formal, without = (r.get(k, True) for k in ("shown", "formal_shown", "without_shown"))
        n, f = int(r["referrals"]), int(r["formal_referrals"])
        out.append([group_label("region", r["from_group"]), group_label("region", r["to_group"]),
                    formats.count(n) if shown else HIDDEN, formats.count(f) if formal else HIDDEN,
                    formats.count(n - f) if without else HIDDEN,
                    formats.percent((n - f) / n) if shown and without and n else HIDDEN if n else formats.MISSING])
    return pd.DataFrame(out, columns=columns)
