"""The plain-pandas peer: the way most Streamlit dashboards do it.

At startup it loads every table into DataFrames (from Parquet copies of the database's tables, the
fairest file format for pandas; reading the CSV files instead costs it several times more), joins
the agencies onto the referrals once and derives the stage durations, as a `@st.cache_data` loader
would. Each page then filters those frames in memory by the period (and region, service type,
sector) and groups them into the page's headline figures.

The figures are the same as Atlas's named queries return (tests/test_bench_peer.py checks it on a
small database): `figures(page, ...)` on either side gives a dict of DataFrames per page.

- overview: network_summary for the period and the one before, referral_trend
- bottlenecks: referral_funnel, stage_durations, agency_bottlenecks
- need: need_vs_capacity (need, demand, capacity, unmet need, utilization per region/service/month)
- network: network_edges (flow weights and the tie they run along), network_agencies (sent, received),
  and per agency in/out degree and strength (Atlas computes those in atlas.views.network.score)
- outcomes: outcomes_by_program (exits, positive exits, rate, Wilson interval, suppression)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from atlas.filters import Filters

PAGES = ("overview", "bottlenecks", "need", "network", "outcomes")
DAY = 86_400
Z = 1.959964
STALL_DAYS = 14
MIN_CELL = 11


# ------------------------------------------------------------------------------------------------
# Atlas's side: the named queries that give the same figures
# ------------------------------------------------------------------------------------------------

def _clock(end: dt.date | None, as_of: pd.Timestamp) -> dt.datetime:
    """As atlas.views.overview._clock: stalled is judged at the period's end, never after the data's as-of."""
    if end is None:
        return as_of.to_pydatetime()
    return min(dt.datetime.combine(end, dt.time.max), as_of.to_pydatetime())


def atlas_figures(db, page: str, filters: Filters) -> dict[str, pd.DataFrame]:
    """The page's headline figures from Atlas's named queries (`db` has `.query(name, **params)`)."""
    p = filters.params_for
    if page == "overview":
        as_of = pd.Timestamp(db.query("data_extent")["as_of"].iloc[0])
        out = {"summary": db.query("network_summary", **p("network_summary"), as_of=_clock(filters.end, as_of)),
               "trend": db.query("referral_trend", **p("referral_trend"))}
        before = filters.previous()
        if before is not None:
            out["summary_before"] = db.query("network_summary", **before.params_for("network_summary"),
                                             as_of=_clock(before.end, as_of))
        return out
    if page == "bottlenecks":
        return {"funnel": db.query("referral_funnel", **p("referral_funnel")),
                "durations": db.query("stage_durations", **p("stage_durations")),
                "agencies": db.query("agency_bottlenecks", **p("agency_bottlenecks"))}
    if page == "need":
        return {"cells": db.query("need_vs_capacity", **p("need_vs_capacity"))}
    if page == "network":
        return {"edges": db.query("network_edges", **p("network_edges")),
                "agencies": db.query("network_agencies", **p("network_agencies"))}
    if page == "outcomes":
        return {"programs": db.query("outcomes_by_program", **p("outcomes_by_program"), min_cell=MIN_CELL)}
    raise ValueError(page)


# ------------------------------------------------------------------------------------------------
# The pandas peer
# ------------------------------------------------------------------------------------------------

@dataclass
class Tables:
    agencies: pd.DataFrame
    programs: pd.DataFrame
    partnerships: pd.DataFrame
    referrals: pd.DataFrame  # with the agencies' region, sector, victim-service flag and the durations
    outcomes: pd.DataFrame  # with polarity, the agency's region and sector, the program's service type
    capacity: pd.DataFrame  # with the program's service type and its agency's region
    needs: pd.DataFrame
    as_of: pd.Timestamp  # the latest timestamp of any referral stage


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / DAY


def load(directory: Path) -> Tables:
    """Every table into memory, joined and derived once (what a naive app does at startup)."""
    read = {name: pd.read_parquet(Path(directory) / f"{name}.parquet") for name in
            ("agencies", "programs", "partnerships", "referrals", "outcomes", "capacity", "needs", "outcome_kinds")}
    agencies = read["agencies"]
    r = read["referrals"]
    info = agencies.set_index("agency_id")[["region", "sector", "is_victim_service"]]
    to = info.reindex(r["to_agency_id"])
    fr = info.reindex(r["from_agency_id"])
    r = r.assign(
        to_region=to["region"].to_numpy(), to_sector=to["sector"].to_numpy(),
        to_victim_service=to["is_victim_service"].to_numpy(), from_victim_service=fr["is_victim_service"].to_numpy(),
        is_internal=r["from_agency_id"] == r["to_agency_id"],
        is_pending=r["accepted_at"].isna() & r["declined_at"].isna(),
        days_to_accept=_days(r["accepted_at"], r["referred_at"]),
        days_to_start=_days(r["started_at"], r["referred_at"]),
        referred_month=r["referred_at"].dt.to_period("M").dt.to_timestamp(),
    )
    stages = r[["referred_at", "accepted_at", "declined_at", "started_at", "completed_at"]]
    as_of = pd.Timestamp(stages.max().max())

    kinds = read["outcome_kinds"].set_index("outcome")
    o = read["outcomes"]
    oa = info.reindex(o["agency_id"])
    o = o.assign(is_positive=(kinds["polarity"].reindex(o["outcome"]) == "positive").to_numpy(),
                 region=oa["region"].to_numpy(), sector=oa["sector"].to_numpy(),
                 is_victim_service=oa["is_victim_service"].to_numpy(),
                 service_type=read["programs"].set_index("program_id")["service_type"].reindex(o["program_id"]).to_numpy(),
                 achieved_on=pd.to_datetime(o["achieved_on"]))

    c = read["capacity"].merge(read["programs"][["program_id", "agency_id", "service_type"]], on="program_id")
    c = c.merge(agencies[["agency_id", "region"]], on="agency_id")
    c["month"] = pd.to_datetime(c["month"])
    needs = read["needs"].assign(month=pd.to_datetime(read["needs"]["month"]))
    partnerships = read["partnerships"].assign(started_on=pd.to_datetime(read["partnerships"]["started_on"]),
                                               ended_on=pd.to_datetime(read["partnerships"]["ended_on"]))
    return Tables(agencies, read["programs"], partnerships, r, o, c, needs, as_of)


def _day(value) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


def referrals_in(t: Tables, f: Filters, region=True, sector=True) -> pd.DataFrame:
    r = t.referrals
    mask = np.ones(len(r), dtype=bool)
    if f.start is not None:
        mask &= (r["referred_at"] >= _day(f.start)).to_numpy()
    if f.end is not None:
        mask &= (r["referred_at"] < _day(f.end) + pd.Timedelta(days=1)).to_numpy()
    if region and f.region is not None:
        mask &= (r["to_region"] == f.region).to_numpy()
    if f.service_type is not None:
        mask &= (r["service_type"] == f.service_type).to_numpy()
    if sector and f.sector is not None:
        mask &= (r["to_sector"] == f.sector).to_numpy()
    return r[mask]


def outcomes_in(t: Tables, f: Filters) -> pd.DataFrame:
    o = t.outcomes
    mask = np.ones(len(o), dtype=bool)
    if f.start is not None:
        mask &= (o["achieved_on"] >= _day(f.start)).to_numpy()
    if f.end is not None:
        mask &= (o["achieved_on"] <= _day(f.end)).to_numpy()
    for column, value in (("region", f.region), ("service_type", f.service_type), ("sector", f.sector)):
        if value is not None:
            mask &= (o[column] == value).to_numpy()
    return o[mask]


def partnership_activity(t: Tables, f: Filters) -> pd.DataFrame:
    p = t.partnerships
    mask = np.ones(len(p), dtype=bool)
    if f.end is not None:
        mask &= (p["started_on"] <= _day(f.end)).to_numpy()
    if f.start is not None:
        mask &= (p["ended_on"].isna() | (p["ended_on"] >= _day(f.start))).to_numpy()
    p = p[mask]
    info = t.agencies.set_index("agency_id")
    a, b = info.reindex(p["agency_a_id"]), info.reindex(p["agency_b_id"])
    keep = np.ones(len(p), dtype=bool)
    if f.region is not None:
        keep &= ((a["region"] == f.region).to_numpy() | (b["region"] == f.region).to_numpy())
    if f.sector is not None:
        keep &= ((a["sector"] == f.sector).to_numpy() | (b["sector"] == f.sector).to_numpy())
    p = p[keep]
    r = referrals_in(t, Filters(f.start, f.end, None, f.service_type, None), region=False, sector=False)
    r = r[~r["is_internal"]]
    pairs = pd.DataFrame({"lo": np.minimum(r["from_agency_id"].to_numpy(), r["to_agency_id"].to_numpy()),
                          "hi": np.maximum(r["from_agency_id"].to_numpy(), r["to_agency_id"].to_numpy())})
    counts = pairs.groupby(["lo", "hi"]).size().rename("referrals")
    keys = pd.MultiIndex.from_arrays([np.minimum(p["agency_a_id"].to_numpy(), p["agency_b_id"].to_numpy()),
                                      np.maximum(p["agency_a_id"].to_numpy(), p["agency_b_id"].to_numpy())])
    referrals = counts.reindex(keys).fillna(0).astype("int64").to_numpy()
    return p.assign(referrals=referrals, status=np.where(referrals == 0, "dormant", "active"))


def network_summary(t: Tables, f: Filters, as_of: dt.datetime) -> pd.DataFrame:
    r = referrals_in(t, f)
    clock = pd.Timestamp(as_of)
    accepted, declined = int(r["accepted_at"].notna().sum()), int(r["declined_at"].notna().sum())
    stalled = ((r["referred_at"] <= clock) & (r["accepted_at"].isna() | (r["accepted_at"] > clock))
               & (r["declined_at"].isna() | (r["declined_at"] > clock))
               & ((clock - r["referred_at"]).dt.total_seconds() / DAY > STALL_DAYS)).sum()
    o = outcomes_in(t, f)
    p = partnership_activity(t, f)
    exits, positive = len(o), int(o["is_positive"].sum())
    return pd.DataFrame([{
        "referrals": len(r), "accepted": accepted, "declined": declined,
        "acceptance_rate": accepted / (accepted + declined) if accepted + declined else np.nan,
        "median_days_to_accept": r["days_to_accept"].median(), "stalled": int(stalled),
        "active_partnerships": int((p["status"] == "active").sum()), "partnerships": len(p),
        "exits": exits, "positive_exits": positive, "positive_exit_rate": positive / exits if exits else np.nan,
    }])


def referral_trend(t: Tables, f: Filters) -> pd.DataFrame:
    r = referrals_in(t, f)
    g = r.groupby("referred_month")
    out = pd.DataFrame({
        "referred": g.size(), "accepted": g["accepted_at"].count(), "declined": g["declined_at"].count(),
        "pending": g["is_pending"].sum(), "median_days_to_accept": g["days_to_accept"].median(),
        "median_days_to_start": g["days_to_start"].median(),
    })
    return out.rename_axis("month").reset_index()


def referral_funnel(t: Tables, f: Filters) -> pd.DataFrame:
    r = referrals_in(t, f)
    counts = {"referred": len(r), "accepted": r["accepted_at"].count(), "started": r["started_at"].count(),
              "completed": r["completed_at"].count(), "declined": r["declined_at"].count(),
              "pending": int(r["is_pending"].sum())}
    return pd.DataFrame({"position": range(1, 7), "stage": list(counts), "referrals": list(counts.values())})


BINS = [(1, 0, 1, "< 1 day"), (2, 1, 2, "1–2 days"), (3, 2, 3, "2–3 days"), (4, 3, 5, "3–5 days"),
        (5, 5, 7, "5–7 days"), (6, 7, 14, "1–2 weeks"), (7, 14, 30, "2–4 weeks"), (8, 30, 60, "1–2 months"),
        (9, 60, 1e9, "2 months +")]


def stage_durations(t: Tables, f: Filters) -> pd.DataFrame:
    r = referrals_in(t, f)
    rows = []
    for stage in ("days_to_accept", "days_to_start"):
        days = r[stage].dropna()
        if days.empty:
            continue
        q1, median, q3, p90 = days.quantile([0.25, 0.5, 0.75, 0.9]).to_numpy()
        edges = [b[1] for b in BINS] + [BINS[-1][2]]
        counts = pd.cut(days, edges, right=False, labels=False).value_counts()
        for position, (bin_, _, _, label) in enumerate(BINS):
            n = int(counts.get(position, 0))
            if n:
                rows.append({"stage": stage, "bin": bin_, "label": label, "referrals": n, "share": n / len(days),
                             "stage_total": len(days), "q1": q1, "median": median, "q3": q3, "p90": p90})
    return pd.DataFrame(rows, columns=["stage", "bin", "label", "referrals", "share", "stage_total", "q1", "median",
                                       "q3", "p90"])


def agency_bottlenecks(t: Tables, f: Filters) -> pd.DataFrame:
    r = referrals_in(t, f)
    age = (t.as_of - r["referred_at"]).dt.total_seconds() / DAY
    r = r.assign(stalled=r["is_pending"] & (age > STALL_DAYS))
    g = r.groupby("to_agency_id")
    out = pd.DataFrame({
        "received": g.size(), "accepted": g["accepted_at"].count(), "declined": g["declined_at"].count(),
        "pending": g["is_pending"].sum(), "stalled": g["stalled"].sum(),
        "median_days_to_accept": g["days_to_accept"].median(),
        "p90_days_to_accept": g["days_to_accept"].quantile(0.9),
        "median_days_to_start": g["days_to_start"].median(),
    })
    answered = out["accepted"] + out["declined"]
    out["acceptance_rate"] = (out["accepted"] / answered).where(answered > 0)
    out = out.rename_axis("agency_id").reset_index()
    return out.merge(t.agencies[["agency_id", "name", "sector", "region", "is_victim_service"]], on="agency_id")


def need_vs_capacity(t: Tables, f: Filters) -> pd.DataFrame:
    keys = ["region", "service_type", "month"]
    need = t.needs.groupby(keys)["people_in_need"].sum().rename("need")
    r = t.referrals
    demand = r.groupby([r["to_region"].rename("region"), "service_type", r["referred_month"].rename("month")]) \
        .size().rename("demand")
    capacity = t.capacity.groupby(keys)["slots"].sum().rename("capacity")
    cells = pd.concat([need, demand, capacity], axis=1)
    month = cells.index.get_level_values("month")
    mask = np.ones(len(cells), dtype=bool)
    if f.start is not None:
        mask &= month >= _day(f.start)
    if f.end is not None:
        mask &= month <= _day(f.end)
    if f.region is not None:
        mask &= cells.index.get_level_values("region") == f.region
    if f.service_type is not None:
        mask &= cells.index.get_level_values("service_type") == f.service_type
    cells = cells[mask]
    out = cells.fillna({"need": 0, "demand": 0, "capacity": 0}).astype("int64")
    out["unmet_need"] = (out["need"] - out["capacity"]).clip(lower=0)
    out["utilization"] = (out["demand"] / cells["capacity"]).where(cells["capacity"] > 0)
    return out.reset_index().sort_values(keys).reset_index(drop=True)


def network_edges(t: Tables, f: Filters) -> pd.DataFrame:
    r = referrals_in(t, f)
    r = r[~r["is_internal"]]
    flows = r.groupby(["from_agency_id", "to_agency_id"]).agg(referrals=("referred_at", "size"),
                                                               accepted=("accepted_at", "count")).reset_index()
    p = t.partnerships
    mask = np.ones(len(p), dtype=bool)
    if f.end is not None:
        mask &= (p["started_on"] <= _day(f.end)).to_numpy()
    if f.start is not None:
        mask &= (p["ended_on"].isna() | (p["ended_on"] >= _day(f.start))).to_numpy()
    p = p[mask]
    ties = pd.DataFrame({"lo": np.minimum(p["agency_a_id"].to_numpy(), p["agency_b_id"].to_numpy()),
                         "hi": np.maximum(p["agency_a_id"].to_numpy(), p["agency_b_id"].to_numpy()),
                         "formal": (p["kind"] == "formal").to_numpy()}).groupby(["lo", "hi"])["formal"].any()
    keys = pd.MultiIndex.from_arrays([np.minimum(flows["from_agency_id"].to_numpy(), flows["to_agency_id"].to_numpy()),
                                      np.maximum(flows["from_agency_id"].to_numpy(), flows["to_agency_id"].to_numpy())])
    formal = ties.reindex(keys).to_numpy()
    flows["agreement"] = np.where(pd.isna(formal), "none", np.where(formal == True, "formal", "informal"))  # noqa: E712
    return flows.sort_values(["referrals", "from_agency_id", "to_agency_id"], ascending=[False, True, True]) \
        .reset_index(drop=True)


def network_agencies(t: Tables, f: Filters) -> pd.DataFrame:
    r = referrals_in(t, f, region=False, sector=False)
    r = r[~r["is_internal"]]
    a = t.agencies[["agency_id", "name", "sector", "region", "is_victim_service"]].copy()
    a["in_scope"] = (a["region"] == f.region if f.region else True) & (a["sector"] == f.sector if f.sector else True)
    a["sent"] = r["from_agency_id"].value_counts().reindex(a["agency_id"]).fillna(0).astype("int64").to_numpy()
    a["received"] = r["to_agency_id"].value_counts().reindex(a["agency_id"]).fillna(0).astype("int64").to_numpy()
    return a.sort_values("agency_id").reset_index(drop=True)


def degrees(edges: pd.DataFrame, agencies: pd.DataFrame) -> pd.DataFrame:
    """In/out degree (distinct partner agencies) and strength (referrals) of the agencies a map draws:
    victim-service agencies and every flow touching them left out."""
    protected = set(agencies.loc[agencies["is_victim_service"], "agency_id"])
    e = edges[~(edges["from_agency_id"].isin(protected) | edges["to_agency_id"].isin(protected))]
    ids = agencies.loc[~agencies["is_victim_service"], "agency_id"]
    out = pd.DataFrame({"agency_id": ids.to_numpy()})
    for side, column in (("out", "from_agency_id"), ("in", "to_agency_id")):
        g = e.groupby(column)
        out[f"{side}_degree"] = g.size().reindex(ids).fillna(0).astype("int64").to_numpy()
        out[f"{side}_strength"] = g["referrals"].sum().reindex(ids).fillna(0).astype("int64").to_numpy()
    return out


def _wilson(k: pd.Series, n: pd.Series, sign: int) -> pd.Series:
    p = k / n
    return (p + Z ** 2 / (2 * n) + sign * Z * np.sqrt(p * (1 - p) / n + Z ** 2 / (4 * n * n))) / (1 + Z ** 2 / n)


def outcomes_by_program(t: Tables, f: Filters, min_cell: int = MIN_CELL) -> pd.DataFrame:
    o = outcomes_in(t, f)
    if min_cell > 0:
        o = o[~o["is_victim_service"]]
    g = o.groupby(["agency_id", "program_id"], dropna=False)
    w = pd.DataFrame({"exits": g.size(), "positive": g["is_positive"].sum()}).reset_index()
    exits, positive = w["exits"], w["positive"]
    suppressed = (exits < min_cell) | ((positive > 0) & (positive < min_cell)) \
        | ((exits - positive > 0) & (exits - positive < min_cell))
    w = w.assign(rate=positive / exits, ci_low=_wilson(positive, exits, -1), ci_high=_wilson(positive, exits, 1))
    for column in ("exits", "positive", "rate", "ci_low", "ci_high"):
        w[column] = w[column].where(~suppressed)
    w["suppressed"] = suppressed
    w = w.merge(t.agencies[["agency_id", "name"]].rename(columns={"name": "agency_name"}), on="agency_id")
    programs = t.programs.rename(columns={"name": "program_name"})[["program_id", "program_name", "service_type",
                                                                     "funder"]]
    w = w.merge(programs, on="program_id", how="left")
    return w.sort_values(["agency_id", "program_id"], na_position="first").reset_index(drop=True)


def pandas_figures(t: Tables, page: str, filters: Filters) -> dict[str, pd.DataFrame]:
    """The page's headline figures computed in pandas from the loaded tables."""
    if page == "overview":
        out = {"summary": network_summary(t, filters, _clock(filters.end, t.as_of)),
               "trend": referral_trend(t, filters)}
        before = filters.previous()
        if before is not None:
            out["summary_before"] = network_summary(t, before, _clock(before.end, t.as_of))
        return out
    if page == "bottlenecks":
        return {"funnel": referral_funnel(t, filters), "durations": stage_durations(t, filters),
                "agencies": agency_bottlenecks(t, filters)}
    if page == "need":
        return {"cells": need_vs_capacity(t, filters)}
    if page == "network":
        edges, agencies = network_edges(t, filters), network_agencies(t, filters)
        return {"edges": edges, "agencies": agencies, "degrees": degrees(edges, agencies)}
    if page == "outcomes":
        return {"programs": outcomes_by_program(t, filters)}
    raise ValueError(page)


# ------------------------------------------------------------------------------------------------
# Agreement
# ------------------------------------------------------------------------------------------------

KEYS = {"summary": [], "summary_before": [], "trend": ["month"], "funnel": ["position"],
        "durations": ["stage", "bin"], "agencies": ["agency_id"], "cells": ["region", "service_type", "month"],
        "edges": ["from_agency_id", "to_agency_id"], "programs": ["agency_id", "program_id"]}


def _column(values: pd.Series) -> pd.Series:
    """Dates and timestamps as one type (DuckDB gives dates as datetime.date or datetime64)."""
    first = values.dropna().iloc[0] if values.notna().any() else None
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(first, dt.date):
        return pd.to_datetime(values).astype("datetime64[us]")
    return values


def differences(atlas: dict[str, pd.DataFrame], peer: dict[str, pd.DataFrame]) -> list[str]:
    """Where the peer's figures differ from Atlas's (every Atlas column of every Atlas frame); [] = equal.
    Counts must be equal; rates, medians and durations equal to 1e-9 relative (float rounding)."""
    problems = []
    for name, a in atlas.items():
        if name not in peer:
            problems.append(f"{name}: missing from the peer")
            continue
        b = peer[name]
        missing = [c for c in a.columns if c not in b.columns]
        if missing:
            problems.append(f"{name}: the peer lacks {missing}")
            continue
        if len(a) != len(b):
            problems.append(f"{name}: {len(a)} rows in Atlas, {len(b)} in the peer")
            continue
        keys = KEYS.get(name, [])
        a = a.assign(**{c: _column(a[c]) for c in a.columns})
        b = b[list(a.columns)].assign(**{c: _column(b[c]) for c in a.columns})
        if keys:
            a = a.sort_values(keys, na_position="first").reset_index(drop=True)
            b = b.sort_values(keys, na_position="first").reset_index(drop=True)
        for column in a.columns:
            x, y = a[column], b[column]
            numeric = pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x)
            if numeric and (pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y)):
                xs = pd.to_numeric(x, errors="coerce").astype("float64").to_numpy()
                ys = pd.to_numeric(y, errors="coerce").astype("float64").to_numpy()
                same = np.isclose(xs, ys, rtol=1e-9, atol=1e-12, equal_nan=True)
            else:
                xs, ys = x.astype(object).where(x.notna(), None), y.astype(object).where(y.notna(), None)
                same = np.array([u == v for u, v in zip(xs, ys)], dtype=bool)
            if not same.all():
                i = int(np.argmin(same))
                problems.append(f"{name}.{column}: {int((~same).sum())} rows differ, e.g. row {i}: "
                                f"Atlas {x.iloc[i]}, peer {y.iloc[i]}")
    return problems
