"""The board's published set: every referral figure a board member can see for a reporting period, and which of
them are hidden, decided for a calendar year and its quarters together. Loading and computing layer: it reads
the named queries (`network_edges`, `network_agencies`, `network_summary`, `group_flows`) and protects the
set with `atlas.views.network.audit`.

The set of one period (a whole quarter or year), fixed whatever page or pack shows it:

* each flow between two agencies (the agency map, every region's and sector's agency map, their tooltips,
  tables and exports, the board pack);
* by region and by sector: the referrals from each group to each other (the summary maps' arrows), within
  each, and each group's sent, received and total referrals (their dots and tables);
* by ordered pair of regions: the referrals that ran over a formal agreement in force and those without;
* the network's referral total, as the Overview publishes it (never hidden here: it is shown as it stands).

Every figure is computed from all records (victim-service agencies and internal referrals left out, as on
the map), never by adding up what survived at a finer grain. The base cells are the flows of each pair of
agencies in each quarter, and one cell a quarter for the referrals the map never draws (internal ones, and
those of victim-service agencies), which only the network total holds. Each quarter is protected on its own
(so its figures never change when later data arrive), then the year with the quarters' patterns fixed
(hiding year figures only), and the audit runs over the year and its quarters together.

`published(db, filters, min_cell)` returns the set of the filters' period (computed once per database, year
and min_cell, and kept)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.filters import Filters, period_end
from atlas.protection import store
from atlas.protection.kept import Kept
from atlas.views import privacy
from atlas.views.network.audit import Figures, protect, reveal_determined

GROUPINGS = ("region", "sector")
VOLUMES = ("within", "sent", "received", "referrals")
# what hiding a referral of each grain costs the board: a region's figures are what it reads first, so the
# complement hides agency flows and sector figures before them
COST = {"flow": 1.0, "sector": 1.0, "sector_volume": 2.0, "formal": 3.0, "region_volume": 6.0, "region": 10.0}
_cache = Kept(8)  # sets kept (each a year and its quarters, for one database and min_cell)


@dataclass(frozen=True)
class PeriodSet:
    """What the board may see of one period: every flow between agencies with `shown`, and by region and sector
    the referrals between groups (`pairs`: from_group, to_group, referrals, formal_referrals, shown,
    formal_shown, without_shown; within a group when from_group = to_group) and each group's volumes
    (`volumes`: group, agencies, within, sent, received, referrals and a `<figure>_shown` flag each)."""
    start: dt.date
    end: dt.date
    flows: pd.DataFrame
    pairs: dict
    volumes: dict
    total: int

    def shown_flows(self) -> pd.DataFrame:
        return self.flows[self.flows["shown"].astype(bool)].drop(columns="shown").reset_index(drop=True)

    def hidden_count(self) -> int:
        """Figures of the set the board does not see (agency flows, group pairs and volumes, formal splits)."""
        n = int((~self.flows["shown"]).sum())
        for by in GROUPINGS:
            p, v = self.pairs[by], self.volumes[by]
            n += int((~p["shown"]).sum())
            if by == "region":
                between = p["from_group"] != p["to_group"]
                n += int((~p.loc[between, "formal_shown"]).sum() + (~p.loc[between, "without_shown"]).sum())
            n += int(sum((~v[f"{f}_shown"]).sum() for f in VOLUMES))
        return n


def published(db, filters: Filters, min_cell: int) -> PeriodSet:
    """The board's set of the filters' period: a quarter protected on its own (its figures never change when
    later data arrive), a year protected with its quarters' patterns fixed (see the module's docstring); any
    other period on its own. Kept per database file, period and min_cell."""
    key = (store.version_of(db), filters.start, filters.end, filters.aligned, int(min_cell))
    return _cache.get_or_make(key, lambda: _make(db, filters, int(min_cell), key[0]))


def _make(db, filters: Filters, min_cell: int, version) -> PeriodSet:
    found = _stored(db, version, filters, min_cell)
    return found if found is not None else _worked_out(db, version, filters, min_cell)


def _year_quarters(db, year: int) -> list[tuple[dt.date, dt.date]]:
    """The year's quarters that the data reaches (a year the data does not yet hold whole is not offered to the
    board, but a pack or a test may ask for it)."""
    extent = db.query("data_extent").iloc[0]
    if pd.isna(extent["last_referral"]):
        return []
    last = pd.Timestamp(extent["last_referral"]).date()
    return [(dt.date(year, m, 1), period_end(dt.date(year, m, 1), "quarter")) for m in (1, 4, 7, 10)
            if dt.date(year, m, 1) <= last]


def _stored_hidden(version, period: int, start, end, length: str, min_cell: int) -> dict | None:
    """A period's pattern from the protected store (atlas.protection.store), keyed as `_protected` keys it
    with the period's index; None when it is not stored for this database and algorithm."""
    pattern = store.load(version, "board", start, end, length, min_cell)
    if pattern is None:
        return None
    return {(period, *(tuple(k) if isinstance(k, list) else (k,))): True for k in pattern["hidden"]}


def _stored(db, version, filters: Filters, min_cell: int) -> PeriodSet | None:
    """The set rebuilt from the named queries and its stored pattern, when the store holds it."""
    if version is None or filters.aligned not in ("quarter", "year") or filters.start is None:
        return None
    if filters.aligned == "year":
        quarters, whole_year = _year_quarters(db, filters.start.year), (filters.start, filters.end)
    else:
        quarters, whole_year = [(filters.start, filters.end)], None
    period = len(quarters) if whole_year is not None else 0
    if not quarters:
        return None
    hidden = _stored_hidden(version, period, filters.start, filters.end, filters.aligned, min_cell)
    if hidden is None:
        return None
    cells, agencies, _ = _cells(db, quarters, whole_year)
    return _period_set(db, period, list(range(len(quarters))) if whole_year else [0], filters.start, filters.end,
                       cells, agencies, hidden)


def _worked_out(db, version, filters: Filters, min_cell: int) -> PeriodSet:
    """Protect the period: a year with its quarters (those already stored are read, not worked out again),
    anything else on its own; every quarter and year worked out is stored."""
    began = time.perf_counter()
    year = filters.aligned == "year" and filters.start is not None
    quarters = _year_quarters(db, filters.start.year) if year else []
    whole_year = (dt.date(filters.start.year, 1, 1), dt.date(filters.start.year, 12, 31)) if year else None
    if not quarters:
        quarters, whole_year = [(filters.start, filters.end)], None
    known = {q: found for q, (start, end) in enumerate(quarters) if whole_year is not None
             and (found := _stored_hidden(version, q, start, end, "quarter", min_cell)) is not None}
    hidden: dict = {}
    sets = _protected(db, quarters, whole_year, min_cell, known, hidden)
    periods = [(q, start, end, "quarter") for q, (start, end) in enumerate(quarters) if q not in known]
    if whole_year is not None:
        periods.append((len(quarters), *whole_year, "year"))
    seconds = time.perf_counter() - began
    for period, start, end, length in periods:
        if length == filters.aligned or whole_year is not None:
            pattern = [list(k[1:]) for k, off in hidden.items() if off and k[0] == period]
            store.save(version, "board", start, end, length, min_cell, {"hidden": pattern}, seconds)
    return next((s for s in sets if s.start == filters.start and s.end == filters.end), sets[0])


# ------------------------------------------------------------------------------------------------ the cells

def _cells(db, quarters: list, whole_year) -> tuple[pd.DataFrame, pd.DataFrame, list[int]]:
    """The base cells: every non-victim flow of each quarter (`q`: the quarter's index) with both agencies'
    region and sector and whether a formal agreement was in force in the quarter (`formal_q`) and in the year
    (`formal_y`); the agencies; and each quarter's referrals the map never draws (the total's other part)."""
    agencies = db.query("network_agencies", start=None, end=None, region=None, service_type=None, sector=None)
    shown_agencies, protected = privacy.split_agencies(agencies)
    year_formal = set()
    if whole_year is not None:
        year = db.query("network_edges", start=whole_year[0], end=whole_year[1], region=None, service_type=None,
                        sector=None)
        year = year[year["agreement"] == "formal"]
        year_formal = set(zip(year["from_agency_id"], year["to_agency_id"]))
    frames, others = [], []
    for q, (start, end) in enumerate(quarters):
        edges = db.query("network_edges", start=start, end=end, region=None, service_type=None, sector=None)
        flows = privacy.shown_rows(edges, protected)[["from_agency_id", "to_agency_id", "referrals", "agreement"]]
        total = int(db.query("network_summary", start=start, end=end)["referrals"].iloc[0])
        others.append(total - int(flows["referrals"].sum()))
        frames.append(flows.assign(q=q))
    cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["from_agency_id", "to_agency_id", "referrals", "agreement", "q"])
    for by in GROUPINGS:
        group = dict(zip(shown_agencies["agency_id"], shown_agencies[by]))
        cells[f"from_{by}"] = cells["from_agency_id"].map(group)
        cells[f"to_{by}"] = cells["to_agency_id"].map(group)
    cells["formal_q"] = cells["agreement"] == "formal"
    cells["formal_y"] = [(a, b) in year_formal for a, b in zip(cells["from_agency_id"], cells["to_agency_id"])]
    return cells.reset_index(drop=True), shown_agencies, others


class _Builder:
    """Figures over the cells of some quarters, with a key each (period, what, ...) to read the pattern back."""

    def __init__(self, cells: pd.DataFrame, others: list[int]):
        self.cells, self.others = cells, others
        self.values = np.concatenate([cells["referrals"].to_numpy(float), np.asarray(others, float)])
        self.members: list[np.ndarray] = []
        self.grains: list[str] = []
        self.keys: list[tuple] = []

    def add(self, key: tuple, grain: str, members) -> None:
        members = np.asarray(members, np.int64)
        if len(members):
            self.members.append(members)
            self.grains.append(grain)
            self.keys.append(key)

    def period(self, period: int, quarters: list[int]) -> None:
        """Every figure of one period (made of the quarters listed)."""
        cells = self.cells
        inside = cells["q"].isin(quarters).to_numpy()
        rows = np.flatnonzero(inside)
        part = cells.iloc[rows]
        for (a, b), index in part.groupby(["from_agency_id", "to_agency_id"]).indices.items():
            self.add((period, "flow", a, b), "flow", rows[index])
        formal = part["formal_q" if len(quarters) == 1 else "formal_y"].to_numpy()
        for by in GROUPINGS:
            frm, to = part[f"from_{by}"].to_numpy(), part[f"to_{by}"].to_numpy()
            for (a, b), index in part.groupby([f"from_{by}", f"to_{by}"]).indices.items():
                self.add((period, by, a, b), by, rows[index])
                if by == "region" and a != b:
                    self.add((period, "formal", a, b), "formal", rows[index][formal[index]])
                    self.add((period, "without", a, b), "formal", rows[index][~formal[index]])
            for g in pd.unique(np.concatenate([frm, to])):
                within, sent, received = (frm == g) & (to == g), (frm == g) & (to != g), (frm != g) & (to == g)
                for name, mask in (("within", within), ("sent", sent), ("received", received),
                                   ("referrals", within | sent | received)):
                    self.add((period, f"{by}_volume", g, name), f"{by}_volume", rows[mask])
        n = len(cells)
        other = np.array([n + q for q in quarters])
        self.add((period, "other"), "other", other)
        self.add((period, "total"), "total", np.concatenate([rows, other]))

    def figures(self) -> Figures:
        return Figures(self.values, self.members, self.grains)


def _pattern(builder: _Builder, min_cell: int, fixed_hidden: dict | None = None,
             may_hide=None) -> np.ndarray:
    """Protect the builder's figures: the total is shown as it stands, the other part never shown."""
    figures = builder.figures()
    kinds = [k[1] for k in builder.keys]
    hidden = figures.small(min_cell) | np.array([k == "other" for k in kinds])
    allowed = np.array([k not in ("total", "other") for k in kinds]) if may_hide is None else may_hide
    if fixed_hidden is not None:
        hidden = np.array([fixed_hidden.get(k, h) for k, h in zip(builder.keys, hidden)])
    hidden &= ~np.array([k == "total" for k in kinds]) | figures.small(min_cell)  # a small total is hidden too
    cost = np.array([COST.get(g, 1.0) for g in builder.grains])
    pattern = protect(figures, min_cell, hidden=hidden, may_hide=allowed, cost=cost)
    # a hidden figure the shown ones fix exactly is shown (audit.reveal_determined): the reader learns nothing
    # new; only figures this call may hide (a quarter keeps the pattern it has alone), never the other part
    return reveal_determined(figures, pattern, min_cell, may_show=allowed)


def _protected(db, quarters: list, whole_year, min_cell: int, known: dict | None = None,
               hidden: dict | None = None) -> list[PeriodSet]:
    """Each quarter protected on its own, then the year with the quarters' patterns fixed. `known`: quarters'
    patterns already worked out (by index: their hidden keys); `hidden` receives every period's pattern."""
    cells, agencies, others = _cells(db, quarters, whole_year)
    hidden = {} if hidden is None else hidden
    for q in range(len(quarters)):
        if known and q in known:
            hidden.update(known[q])
            continue
        one = _Builder(cells, others)
        one.period(q, [q])
        hidden.update(zip(one.keys, _pattern(one, min_cell)))
    if whole_year is not None:
        every = _Builder(cells, others)
        for q in range(len(quarters)):
            every.period(q, [q])
        year = len(quarters)
        every.period(year, list(range(len(quarters))))
        may_hide = np.array([k[0] == year and k[1] not in ("total", "other") for k in every.keys])
        hidden.update(zip(every.keys, _pattern(every, min_cell, hidden, may_hide)))
    sets = [_period_set(db, q, [q], start, end, cells, agencies, hidden) for q, (start, end) in enumerate(quarters)]
    if whole_year is not None:
        sets.append(_period_set(db, len(quarters), list(range(len(quarters))), *whole_year, cells, agencies, hidden))
    return sets


def _period_set(db, period: int, quarters: list[int], start, end, cells: pd.DataFrame, agencies: pd.DataFrame,
                hidden: dict) -> PeriodSet:
    """One period's figures (from the named queries) with what the pattern shows of each."""
    part = cells[cells["q"].isin(quarters)]
    flows = part.groupby(["from_agency_id", "to_agency_id"], as_index=False).agg(
        referrals=("referrals", "sum"), agreement=("agreement", "last"))
    flows["shown"] = pd.array([not hidden.get((period, "flow", a, b), False)
                               for a, b in zip(flows["from_agency_id"], flows["to_agency_id"])], dtype=bool)
    pairs, volumes = {}, {}
    for by in GROUPINGS:
        rows = db.query("group_flows", start=start, end=end, by=by)
        rows = rows.assign(**{name: pd.array([not hidden.get((period, key, a, b), False)
                                              for a, b in zip(rows["from_group"], rows["to_group"])], dtype=bool)
                              for name, key in (("shown", by), ("formal_shown", "formal"),
                                                ("without_shown", "without"))})
        pairs[by] = rows
        volumes[by] = _volumes(rows, agencies, by, period, hidden)
    total = int(db.query("network_summary", start=start, end=end)["referrals"].iloc[0])
    return PeriodSet(start, end, flows.sort_values("referrals", ascending=False).reset_index(drop=True),
                     pairs, volumes, total)


def _volumes(rows: pd.DataFrame, agencies: pd.DataFrame, by: str, period: int, hidden: dict) -> pd.DataFrame:
    groups = sorted(agencies[by].dropna().unique(), key=str)
    within = rows[rows["from_group"] == rows["to_group"]].set_index("from_group")["referrals"]
    between = rows[rows["from_group"] != rows["to_group"]]
    sent = between.groupby("from_group")["referrals"].sum()
    received = between.groupby("to_group")["referrals"].sum()
    out = pd.DataFrame({"group": groups,
                        "agencies": [int((agencies[by] == g).sum()) for g in groups],
                        "within": [int(within.get(g, 0)) for g in groups],
                        "sent": [int(sent.get(g, 0)) for g in groups],
                        "received": [int(received.get(g, 0)) for g in groups]})
    out["referrals"] = out["within"] + out["sent"] + out["received"]
    for name in VOLUMES:
        out[f"{name}_shown"] = pd.array([not hidden.get((period, f"{by}_volume", g, name), False) for g in groups],
                                        dtype=bool)
    return out

