"""The Board's network map, continued: what one agency's closure would cut, and how the network changed.

`closure(db, filters, agency_id)` answers "if this agency closed tomorrow": the referrals it receives,
by service type, that would lose their usual destination; the agencies that would be cut off from
the rest of the referral network; and, per service type, the agencies best placed to absorb the flow
(those already receiving that service from the same referrers, then the busiest).

`change(db, filters, previous)` compares the period with the one before it: ties gained and lost,
and the agencies that moved to the centre of the network or to its edge.

Both are pure functions of named queries. Victim-service agencies are never named here: their
referrals are counted in the totals, the ties they gain or lose only as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import igraph as ig
import pandas as pd
import plotly.graph_objects as go

from atlas import escape, formats
from atlas.filters import Filters
from atlas.views import privacy
from atlas.views.charts import titled
from atlas.views.network.scores import score
from atlas.vocab import label

USUAL_SHARE = 0.5  # an agency is a referrer's usual destination for a service when it gets at least this share
TOP_ABSORBERS = 3  # agencies named per service type as able to absorb the flow
SUMMARY_SERVICES = 3  # service types spelled out in the summary (the busiest)
MIN_REFERRALS = 5  # referrals between two agencies (either way) in a period that make a tie
TOP_MOVERS = 10  # agencies listed each way (to the centre, to the edge)
NAMED_IN_SUMMARY = 5  # cut-off agencies named in the summary before "and N more"
GAIN_COLOUR, LOSS_COLOUR = "#2a9d8f", "#e76f51"

RECEIVED_COLUMNS = {
    "service": "Service", "referrals": "Referrals received", "accepted": "Accepted",
    "acceptance_rate": "Acceptance rate", "referrers": "Referring agencies",
    "usual_for": "Usual destination for (agencies)", "usual_referrals": "Referrals from those agencies",
    "network_share": "Share of all such referrals",
}
REFERRER_COLUMNS = {
    "name": "Referring agency", "service": "Service", "referrals": "Referrals sent here",
    "service_total": "All its referrals of this service", "share": "Share sent here", "usual": "Usual destination",
}
ABSORBER_COLUMNS = {
    "service": "Service", "rank": "Rank", "name": "Agency", "sector": "Sector", "region": "Region",
    "shared_referrers": "Shared referrers", "referrers": "Of referrers", "referrals": "Referrals of this service",
    "acceptance_rate": "Acceptance rate",
}
TIE_COLUMNS = {"agency_a": "Agency A", "agency_b": "Agency B", "referrals_now": "Referrals (this period)",
               "referrals_before": "Referrals (previous period)"}
MOVER_COLUMNS = {
    "name": "Agency", "sector": "Sector", "region": "Region", "degree_before": "Partners before",
    "degree_now": "Partners now", "degree_change": "Change in partners", "rank_before": "Brokerage rank before",
    "rank_now": "Brokerage rank now",
}


PAIR_FIELDS = ("agency_a_id", "agency_b_id", "agency_a", "agency_b", "referrals_now", "referrals_before")
MOVER_FIELDS = ("agency_id", "name", "sector", "region", "degree_before", "degree_now", "degree_change",
                "betweenness_before", "betweenness_now", "rank_before", "rank_now", "rank_change")


def _words(code: object) -> str:
    """A service type as words mid-sentence (\"mental_health\" -> \"mental health\")."""
    return label(code).lower()


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


def _rate(accepted: pd.Series, declined: pd.Series) -> pd.Series:
    """accepted / (accepted + declined); NaN when nothing was decided."""
    decided = (accepted + declined).astype(float)
    return accepted.astype(float) / decided.where(decided > 0)


# --------------------------------------------------------------------------------------------
# 6. Resilience: what one agency's closure would cut
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Closure:
    """What closing one agency would cut, over the period and service type of the filters.

    Region and sector do not narrow this analysis: a closure's absorbers and the shares of each
    referrer's flow are judged over the whole network (the page's region and sector only decide which
    agencies are offered)."""

    agency_id: str
    name: str | None  # None when the id is unknown or a victim-service agency (nothing is shown)
    received: pd.DataFrame  # per service type: service_type, service, referrals, accepted, declined,
    #   acceptance_rate, referrers, usual_for, usual_referrals, network_share (busiest first)
    referrers: pd.DataFrame  # per (referrer, service type), victim-service referrers left out: from_agency_id,
    #   name, service_type, service, referrals, service_total, share, usual (largest share first)
    disconnected: pd.DataFrame  # agencies that would be cut off: agency_id, name, sector, region
    absorbers: pd.DataFrame  # top TOP_ABSORBERS per service type: service_type, service, rank, agency_id,
    #   name, sector, region, shared_referrers, referrers, referrals, accepted, declined, acceptance_rate
    summary: list[str]  # plain-language findings, names Markdown-escaped
    hidden_referrals: int  # referrals it received from victim-service agencies (in the totals, never named)
    period_days: int | None  # length of the period in days (None when there is no data)

    @property
    def found(self) -> bool:
        return self.name is not None

    @property
    def total_referrals(self) -> int:
        return int(self.received["referrals"].sum()) if len(self.received) else 0

    @property
    def received_table(self) -> pd.DataFrame:
        return self.received[list(RECEIVED_COLUMNS)].rename(columns=RECEIVED_COLUMNS)

    @property
    def referrers_table(self) -> pd.DataFrame:
        return self.referrers[list(REFERRER_COLUMNS)].rename(columns=REFERRER_COLUMNS)

    @property
    def absorbers_table(self) -> pd.DataFrame:
        return self.absorbers[list(ABSORBER_COLUMNS)].rename(columns=ABSORBER_COLUMNS)

    @property
    def disconnected_table(self) -> pd.DataFrame:
        return self.disconnected[["name", "sector", "region"]].rename(
            columns={"name": "Agency", "sector": "Sector", "region": "Region"})


def closure(db, filters: Filters, agency_id: str) -> Closure:
    """What closing `agency_id` would cut in the filtered period (see `Closure`)."""
    whole = replace(filters, region=None, sector=None)
    agencies = db.query("network_agencies", **whole.params_for("network_agencies"))
    flows = db.query("service_flows", **whole.params_for("service_flows"))

    visible, protected = privacy.split_agencies(agencies)
    names = dict(zip(visible["agency_id"], visible["name"]))
    days = _period_days(db, filters)
    if agency_id not in names:
        return _empty_closure(agency_id, days)

    into = flows[flows["to_agency_id"] == agency_id]
    received = _received(flows, into)
    referrers = _referrers(flows, into, names, protected)
    absorbers = _absorbers(flows, into, agency_id, visible, protected)
    disconnected = _disconnected(agency_id, flows, visible, protected)
    hidden = int(into.loc[privacy.involves(into, protected, ["from_agency_id"]), "referrals"].sum())
    summary = closure_summary(names[agency_id], received, absorbers, disconnected, hidden, days)
    return Closure(agency_id, names[agency_id], received, referrers, disconnected, absorbers, summary, hidden, days)


def _empty_closure(agency_id: str, days: int | None) -> Closure:
    empty = _empty
    return Closure(
        agency_id, None,
        empty(["service_type", *RECEIVED_COLUMNS, "declined"]),
        empty(["from_agency_id", "service_type", *REFERRER_COLUMNS]),
        empty(["agency_id", "name", "sector", "region"]),
        empty(["service_type", "agency_id", *ABSORBER_COLUMNS, "accepted", "declined"]),
        [], 0, days,
    )


def _period_days(db, filters: Filters) -> int | None:
    """Days in the period; an open end is the data's first or last referral."""
    start, end = filters.start, filters.end
    if start is None or end is None:
        extent = db.query("data_extent").iloc[0]
        if pd.isna(extent["first_referral"]):
            return None
        start = start or pd.Timestamp(extent["first_referral"]).date()
        end = end or pd.Timestamp(extent["last_referral"]).date()
    return max((end - start).days + 1, 1)


def _received(flows: pd.DataFrame, into: pd.DataFrame) -> pd.DataFrame:
    """Per service type: what the agency received, from how many referrers, and for how many of them it
    is the usual destination (at least USUAL_SHARE of the referrer's referrals of that service)."""
    columns = ["service_type", "service", "referrals", "accepted", "declined", "acceptance_rate", "referrers",
               "usual_for", "usual_referrals", "network_share"]
    if into.empty:
        return pd.DataFrame(columns=columns)
    totals = flows.groupby(["from_agency_id", "service_type"], as_index=False)["referrals"].sum() \
        .rename(columns={"referrals": "service_total"})
    shares = into.merge(totals, on=["from_agency_id", "service_type"])
    shares["usual"] = shares["referrals"] / shares["service_total"] >= USUAL_SHARE
    shares["usual_referrals"] = shares["referrals"].where(shares["usual"], 0)
    out = shares.groupby("service_type", as_index=False).agg(
        referrals=("referrals", "sum"), accepted=("accepted", "sum"), declined=("declined", "sum"),
        referrers=("from_agency_id", "nunique"), usual_for=("usual", "sum"), usual_referrals=("usual_referrals", "sum"))
    network_total = flows.groupby("service_type")["referrals"].sum()
    out["network_share"] = out["referrals"] / out["service_type"].map(network_total)
    out["acceptance_rate"] = _rate(out["accepted"], out["declined"])
    out["service"] = out["service_type"].map(_words)
    out["usual_for"] = out["usual_for"].astype(int)
    return out.sort_values(["referrals", "service_type"], ascending=[False, True])[columns].reset_index(drop=True)


def _referrers(flows: pd.DataFrame, into: pd.DataFrame, names: dict, protected: set) -> pd.DataFrame:
    """Each (named) referrer's referrals of a service sent here, against all it sent of that service."""
    columns = ["from_agency_id", "name", "service_type", "service", "referrals", "service_total", "share", "usual"]
    rows = privacy.shown_rows(into, protected, ["from_agency_id"])
    if rows.empty:
        return pd.DataFrame(columns=columns)
    totals = flows.groupby(["from_agency_id", "service_type"], as_index=False)["referrals"].sum() \
        .rename(columns={"referrals": "service_total"})
    out = rows.merge(totals, on=["from_agency_id", "service_type"])
    out["share"] = out["referrals"] / out["service_total"]
    out["usual"] = out["share"] >= USUAL_SHARE
    out["name"] = out["from_agency_id"].map(names)
    out["service"] = out["service_type"].map(_words)
    return out.sort_values(["share", "referrals", "name"], ascending=[False, False, True])[columns] \
        .reset_index(drop=True)


def _absorbers(flows: pd.DataFrame, into: pd.DataFrame, agency_id: str, visible: pd.DataFrame,
               protected: set) -> pd.DataFrame:
    """Per service type the agency receives (busiest first): the other agencies receiving it, ranked by how
    many of the agency's referrers of that service already refer it to them, then by their volume of it."""
    columns = ["service_type", "service", "rank", "agency_id", "name", "sector", "region", "shared_referrers",
               "referrers", "referrals", "accepted", "declined", "acceptance_rate"]
    services = set(into["service_type"])
    others = flows[(flows["to_agency_id"] != agency_id) & ~privacy.involves(flows, protected, ["to_agency_id"])
                   & flows["service_type"].isin(services)]
    if others.empty:
        return pd.DataFrame(columns=columns)
    volume = others.groupby(["to_agency_id", "service_type"], as_index=False)[
        ["referrals", "accepted", "declined"]].sum()
    its_referrers = into[["from_agency_id", "service_type"]].drop_duplicates()
    shared = others.merge(its_referrers, on=["from_agency_id", "service_type"]) \
        .groupby(["to_agency_id", "service_type"]).size().rename("shared_referrers").reset_index()
    out = volume.merge(shared, on=["to_agency_id", "service_type"], how="left")
    out["shared_referrers"] = out["shared_referrers"].fillna(0).astype(int)
    out["referrers"] = out["service_type"].map(its_referrers.groupby("service_type").size()).astype(int)
    out["acceptance_rate"] = _rate(out["accepted"], out["declined"])
    out = out.rename(columns={"to_agency_id": "agency_id"}).merge(
        visible[["agency_id", "name", "sector", "region"]], on="agency_id")
    busiest = into.groupby("service_type")["referrals"].sum()  # services in the order of `received`
    out["_received"] = out["service_type"].map(busiest)
    out = out.sort_values(["_received", "service_type", "shared_referrers", "referrals", "name"],
                          ascending=[False, True, False, False, True])
    out["rank"] = out.groupby("service_type").cumcount() + 1
    out["service"] = out["service_type"].map(_words)
    return out[out["rank"] <= TOP_ABSORBERS][columns].reset_index(drop=True)


def _disconnected(agency_id: str, flows: pd.DataFrame, visible: pd.DataFrame, protected: set) -> pd.DataFrame:
    """Agencies cut off from the rest of the referral network if the agency closed.

    The network is undirected: two agencies are joined by any referral either way in the period (as on
    the map, whose cut points this agrees with: a declared tie that carries no referral is no working
    channel); victim-service agencies are left out. Closing the agency splits its part of
    the network into pieces; the largest piece (on a tie, the one holding the smallest agency id) is
    "the rest", and every agency in another piece is cut off."""
    columns = ["agency_id", "name", "sector", "region"]
    pairs = flows[["from_agency_id", "to_agency_id"]].set_axis(["a", "b"], axis=1)
    pairs = pairs[~privacy.involves(pairs, protected, ["a", "b"]) & (pairs["a"] != pairs["b"])]
    ids = sorted(set(pairs["a"]) | set(pairs["b"]))
    if agency_id not in ids:
        return pd.DataFrame(columns=columns)
    index = {a: i for i, a in enumerate(ids)}
    g = ig.Graph(n=len(ids), edges=list(zip(pairs["a"].map(index), pairs["b"].map(index))))
    g.simplify()
    closing = index[agency_id]
    part = [v for v in g.subcomponent(closing) if v != closing]
    pieces = g.induced_subgraph(part).connected_components()
    pieces = sorted(([ids[part[v]] for v in piece] for piece in pieces), key=lambda p: (-len(p), min(p)))
    cut = {a for piece in pieces[1:] for a in piece}
    out = visible[visible["agency_id"].isin(cut)][columns]
    return out.sort_values(["name", "agency_id"]).reset_index(drop=True)


def _a_year(referrals: int, days: int | None) -> str:
    if not days or abs(days - 365) <= 1:
        return ""
    return f" (about {referrals * 365 / days:,.0f} a year)"


def closure_summary(name: str, received: pd.DataFrame, absorbers: pd.DataFrame, disconnected: pd.DataFrame,
                    hidden: int, days: int | None) -> list[str]:
    """Plain-language findings about a closure (names Markdown-escaped)."""
    agency = f"**{escape.markdown(name)}**"
    lines = []
    if received.empty:
        lines.append(f"{agency} received no referrals from other agencies in the period.")
    period = "in the year" if days and abs(days - 365) <= 1 else "in the period"
    for row in received.head(SUMMARY_SERVICES).itertuples(index=False):
        service = escape.markdown(row.service)
        line = (f"Closing {agency} would leave {row.referrals:,} {service} referrals {period}"
                f"{_a_year(row.referrals, days)} without their usual destination")
        if row.usual_for:
            share = f"all {row.referrers:,}" if row.usual_for == row.referrers else \
                f"{row.usual_for:,} of the {row.referrers:,}"
            line += f"; {share} agencies that refer {service} clients there send most of them there"
        line += "."
        best = absorbers[absorbers["service_type"] == row.service_type]
        if best.empty:
            line += f" No other agency on the map received {service} referrals in the period."
        else:
            top = best.iloc[0]
            rate = "" if pd.isna(top["acceptance_rate"]) else f", accepting {formats.percent(top['acceptance_rate'])}"
            line += (f" **{escape.markdown(top['name'])}** already takes {service} referrals from "
                     f"{top['shared_referrers']:,} of those {top['referrers']:,} referrers "
                     f"({top['referrals']:,} {period}{rate}).")
        lines.append(line)
    rest = received.iloc[SUMMARY_SERVICES:]
    if len(rest):
        lines.append(f"It also received {int(rest['referrals'].sum()):,} referrals of {len(rest)} other "
                     f"service type{'s' if len(rest) > 1 else ''}.")
    if disconnected.empty:
        lines.append(f"No agency would be cut off from the rest of the network if {agency} closed.")
    else:
        named = ", ".join(f"**{escape.markdown(n)}**" for n in disconnected["name"].head(NAMED_IN_SUMMARY))
        more = len(disconnected) - NAMED_IN_SUMMARY
        lines.append(f"{len(disconnected):,} agenc{'y' if len(disconnected) == 1 else 'ies'} would be cut off from "
                     f"the rest of the network: {named}" + (f" and {more:,} more." if more > 0 else "."))
    if hidden:
        lines.append(f"{hidden:,} of the referrals it received came from victim-service agencies "
                     "(counted here, never named).")
    return lines


# --------------------------------------------------------------------------------------------
# 7. Change over time: this period against the previous one
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """The network of this period against the previous one.

    A tie is a pair of agencies with at least `min_referrals` referrals between them (either way) in a
    period. Partners (degree) count ties; brokerage is network betweenness on the ties of each period
    (`atlas.views.network.score`), ranked 1 = strongest broker; agencies that broker nothing have no rank."""

    comparable: bool
    reason: str  # why there is no comparison ("" when there is one)
    current: Filters
    previous: Filters | None
    min_referrals: int = MIN_REFERRALS
    # gained: agency_a_id, agency_b_id, agency_a, agency_b, referrals_now, referrals_before (busiest now first)
    gained: pd.DataFrame = field(default_factory=lambda: _empty(PAIR_FIELDS))
    lost: pd.DataFrame = field(default_factory=lambda: _empty(PAIR_FIELDS))  # the same, busiest before first
    # movers: every agency scored: agency_id, name, sector, region, degree_before, degree_now, degree_change,
    # betweenness_before, betweenness_now, rank_before, rank_now, rank_change (places up; no rank counts as
    # below the last)
    movers: pd.DataFrame = field(default_factory=lambda: _empty(MOVER_FIELDS))
    to_centre: pd.DataFrame = field(default_factory=lambda: _empty(MOVER_FIELDS))  # top movers to the centre
    to_edge: pd.DataFrame = field(default_factory=lambda: _empty(MOVER_FIELDS))  # top movers to the edge
    summary: list[str] = field(default_factory=list)  # plain-language findings, names Markdown-escaped
    hidden_gained: int = 0  # ties gained with a victim-service agency (counted, never named)
    hidden_lost: int = 0

    @property
    def chart(self) -> go.Figure | None:
        """Diverging bars of the change in partners of the top movers (drawn from the data when read, so the
        view holds no figure and can be cached as data)."""
        return movers_chart(self.to_centre, self.to_edge) if self.comparable else None

    @property
    def gained_table(self) -> pd.DataFrame:
        return self.gained[list(TIE_COLUMNS)].rename(columns=TIE_COLUMNS)

    @property
    def lost_table(self) -> pd.DataFrame:
        return self.lost[list(TIE_COLUMNS)].rename(columns=TIE_COLUMNS)

    @property
    def to_centre_table(self) -> pd.DataFrame:
        return self.to_centre[list(MOVER_COLUMNS)].rename(columns=MOVER_COLUMNS)

    @property
    def to_edge_table(self) -> pd.DataFrame:
        return self.to_edge[list(MOVER_COLUMNS)].rename(columns=MOVER_COLUMNS)


def change(db, filters: Filters, previous: Filters | None = None, min_referrals: int = MIN_REFERRALS,
           top: int = TOP_MOVERS) -> Change:
    """This period's network against `previous` (default: the period of the same length just before)."""
    previous = previous or filters.previous()
    if previous is None:
        return Change(False, "The period is open (all data), so there is no previous period to compare with: "
                             "choose a period with a start and an end.", filters, None, min_referrals)
    agencies = db.query("network_agencies", **filters.params_for("network_agencies"))
    now = db.query("network_edges", **filters.params_for("network_edges"))
    before = db.query("network_edges", **previous.params_for("network_edges"))

    visible, protected = privacy.split_agencies(agencies)
    pairs = _pair_volumes(now).merge(_pair_volumes(before), on=["agency_lo", "agency_hi"], how="outer",
                                     suffixes=("_now", "_before")).fillna(0)
    pairs[["referrals_now", "referrals_before"]] = pairs[["referrals_now", "referrals_before"]].astype(int)
    hidden = privacy.involves(pairs, protected, ["agency_lo", "agency_hi"])
    is_gained = (pairs["referrals_now"] >= min_referrals) & (pairs["referrals_before"] < min_referrals)
    is_lost = (pairs["referrals_before"] >= min_referrals) & (pairs["referrals_now"] < min_referrals)
    names = dict(zip(agencies["agency_id"], agencies["name"]))
    gained = _named_pairs(pairs[is_gained & ~hidden], names, "referrals_now")
    lost = _named_pairs(pairs[is_lost & ~hidden], names, "referrals_before")

    involved = set(pairs.loc[~hidden, "agency_lo"]) | set(pairs.loc[~hidden, "agency_hi"])
    shown = visible[visible["in_scope"] | visible["agency_id"].isin(involved)].reset_index(drop=True)
    movers = _movers(shown, _tie_flows(now, protected, min_referrals), _tie_flows(before, protected, min_referrals))
    to_centre = movers[(movers["degree_change"] > 0) | ((movers["degree_change"] == 0) & (movers["rank_change"] > 0))] \
        .sort_values(["degree_change", "rank_change", "name"], ascending=[False, False, True]).head(top)
    to_edge = movers[(movers["degree_change"] < 0) | ((movers["degree_change"] == 0) & (movers["rank_change"] < 0))] \
        .sort_values(["degree_change", "rank_change", "name"], ascending=[True, True, True]).head(top)
    to_centre, to_edge = to_centre.reset_index(drop=True), to_edge.reset_index(drop=True)
    hidden_gained, hidden_lost = int((is_gained & hidden).sum()), int((is_lost & hidden).sum())
    return Change(
        True, "", filters, previous, min_referrals, gained, lost, movers, to_centre, to_edge,
        change_summary(filters, previous, min_referrals, gained, lost, to_centre, to_edge, hidden_gained, hidden_lost),
        hidden_gained, hidden_lost,
    )


def _ordered(flows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each flow's two agencies in canonical order (lo < hi)."""
    a, b = flows["from_agency_id"], flows["to_agency_id"]
    return a.where(a < b, b), b.where(a < b, a)


def _pair_volumes(flows: pd.DataFrame) -> pd.DataFrame:
    """Referrals between each unordered pair of agencies, both ways together."""
    lo, hi = _ordered(flows)
    return flows.assign(agency_lo=lo, agency_hi=hi).groupby(["agency_lo", "agency_hi"], as_index=False)[
        "referrals"].sum()


def _named_pairs(rows: pd.DataFrame, names: dict, by: str) -> pd.DataFrame:
    out = rows.rename(columns={"agency_lo": "agency_a_id", "agency_hi": "agency_b_id"})
    out = out.assign(agency_a=out["agency_a_id"].map(names), agency_b=out["agency_b_id"].map(names))
    return out.sort_values([by, "agency_a", "agency_b"], ascending=[False, True, True])[list(PAIR_FIELDS)] \
        .reset_index(drop=True)


def _tie_flows(flows: pd.DataFrame, protected: set, min_referrals: int) -> pd.DataFrame:
    """The directed flows of pairs that are ties in the period (victim-service agencies left out)."""
    flows = privacy.shown_rows(flows, protected)
    lo, hi = _ordered(flows)
    pair_total = flows["referrals"].groupby([lo, hi]).transform("sum")
    return flows[pair_total >= min_referrals].reset_index(drop=True)


def _movers(shown: pd.DataFrame, now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Degree and brokerage rank of every shown agency in both periods, scored as the map scores them."""
    ids = set(shown["agency_id"])
    periods = {}
    for when, flows in (("now", now), ("before", before)):
        flows = flows[flows["from_agency_id"].isin(ids) & flows["to_agency_id"].isin(ids)]
        scored, _, _ = score(shown, flows, cut_off_lists=False)
        brokers = scored["betweenness"].where(scored["betweenness"] > 0)
        periods[when] = pd.DataFrame({
            f"degree_{when}": scored["degree"].astype(int),
            f"betweenness_{when}": scored["betweenness"],
            f"rank_{when}": brokers.rank(method="min", ascending=False).astype("Int64"),
        })
    out = pd.concat([shown[["agency_id", "name", "sector", "region"]], periods["before"], periods["now"]], axis=1)
    out["degree_change"] = out["degree_now"] - out["degree_before"]
    last = len(out) + 1
    out["rank_change"] = (out["rank_before"].fillna(last) - out["rank_now"].fillna(last)).astype(int)
    return out[list(MOVER_FIELDS)]


def _rank_text(rank) -> str:
    return "—" if pd.isna(rank) else f"{int(rank)}"


def movers_chart(to_centre: pd.DataFrame, to_edge: pd.DataFrame) -> go.Figure | None:
    """Diverging bars: the change in partners of the agencies that moved most, each way (labels escaped)."""
    rows = pd.concat([to_edge.iloc[::-1], to_centre], ignore_index=True)
    rows = rows[rows["degree_change"] != 0]
    if rows.empty:
        return None
    rows = rows.sort_values(["degree_change", "name"], ascending=[True, False]).reset_index(drop=True)
    labels = [f"{escape.html(n)}" for n in rows["name"]]
    if len(set(labels)) < len(labels):  # agencies sharing a name keep separate bars
        labels = [f"{label} ({escape.html(a)})" for label, a in zip(labels, rows["agency_id"])]
    hover = [f"{label}<br>partners {b} → {n}<br>brokerage rank {_rank_text(rb)} → {_rank_text(rn)}"
             for label, b, n, rb, rn in zip(labels, rows["degree_before"], rows["degree_now"], rows["rank_before"],
                                            rows["rank_now"])]
    fig = go.Figure(go.Bar(
        x=rows["degree_change"], y=labels, orientation="h",
        marker_color=[GAIN_COLOUR if d > 0 else LOSS_COLOUR for d in rows["degree_change"]],
        customdata=hover, hovertemplate="%{customdata}<extra></extra>",
    ))
    fig.update_layout(xaxis_title="Change in partners (ties) from the previous period", yaxis_title=None,
                      height=max(320, 26 * len(rows) + 120), showlegend=False)
    fig = titled(fig, "Agencies that moved to the centre (right) or to the edge (left)")
    fig.update_layout(hovermode="closest")
    return fig


def _pair_text(row) -> str:
    return f"**{escape.markdown(row.agency_a)}** – **{escape.markdown(row.agency_b)}**"


def change_summary(filters: Filters, previous: Filters, min_referrals: int, gained: pd.DataFrame,
                   lost: pd.DataFrame, to_centre: pd.DataFrame, to_edge: pd.DataFrame, hidden_gained: int,
                   hidden_lost: int) -> list[str]:
    """Plain-language findings about the change (names Markdown-escaped)."""
    lines = [f"Against the previous period ({escape.markdown(previous.describe())}), {len(gained):,} "
             f"tie{'' if len(gained) == 1 else 's'} formed and {len(lost):,} faded (a tie is at least "
             f"{min_referrals:,} referrals between two agencies, either way)."]
    if len(gained):
        g = gained.iloc[0]
        lines.append(f"Strongest new tie: {_pair_text(g)}, {g.referrals_now:,} referrals "
                     f"({g.referrals_before:,} the period before).")
    if len(lost):
        x = lost.iloc[0]
        lines.append(f"Strongest tie lost: {_pair_text(x)}, {x.referrals_now:,} referrals "
                     f"({x.referrals_before:,} the period before).")
    if len(to_centre) and to_centre.iloc[0]["degree_change"] > 0:
        m = to_centre.iloc[0]
        lines.append(f"Moved most to the centre: **{escape.markdown(m['name'])}**, {m['degree_before']:,} → "
                     f"{m['degree_now']:,} partners.")
    if len(to_edge) and to_edge.iloc[0]["degree_change"] < 0:
        m = to_edge.iloc[0]
        lines.append(f"Moved most to the edge: **{escape.markdown(m['name'])}**, {m['degree_before']:,} → "
                     f"{m['degree_now']:,} partners.")
    if hidden_gained or hidden_lost:
        lines.append(f"Ties with victim-service agencies: {hidden_gained:,} formed, {hidden_lost:,} faded "
                     "(counted, never named).")
    return lines
