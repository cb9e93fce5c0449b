"""Acceptance: every metric of the spec, as `atlas query` prints it, agrees with an independent computation.

The issue's criterion: "A community's own contract files import, and every metric of the spec printed
by `atlas query` agrees with an independent computation from the same files, for the whole data and
for filtered periods, regions, sectors and service types."

The two sides share nothing but the files:

* printed: the real command line, `python -m atlas query NAME --db DB --format json --param k=v`, run
  in a subprocess (many runs share one interpreter, see BATCH) on a database that the real importer
  built from a folder of contract CSV files;
* expected: the metric definitions of the product spec (/work/shared/spec/metrics.md) written again
  below in plain pandas, reading the same CSV files with `pandas.read_csv`. No atlas module, no
  DuckDB and no SQL is used on this side; the lists it needs (positive outcomes) are copied from the
  spec. Where the spec is silent, the choice stated in the query's header is followed and named in
  the function's docstring.

Two communities: the hand-made small one of conftest.py, and the demo community (`atlas demo --csv`,
imported back with `atlas import`). Each metric is compared on the whole data, one period, one
region, one sector, one service type and combinations of them (and, where the query takes them, an
earlier as_of with another stall_days, and the director view min_cell=0), plus a period whose first
and last days are those on which partnerships end and begin. Counts and labels must be equal;
rates, durations and percentiles within 1e-9.

The command-line runs of a community's comparisons (those selected in this run) are made together,
in two subprocesses side by side, when the community is first needed (see BATCH).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
HMAC_KEY = "agreement-test-key-0123456789abcdef0123456789abcdef"
TOLERANCE = 1e-9

# From the spec and the import contract, not from atlas.contract, so that a wrong list there shows.
Z = 1.959964
POSITIVE_OUTCOMES = frozenset({
    "housed_permanent", "housed_temporary", "employed", "income_increased", "education_enrolled",
    "health_connected",
})
STAGES = ("referred_at", "accepted_at", "declined_at", "started_at", "completed_at")
DEFAULT_STALL_DAYS = 14
DEFAULT_MIN_CELL = 11

COMMON = frozenset({"start", "end", "region", "service_type", "sector"})

# Each filter names the community's choices it applies (see CHOICES): a parameter, or a period
# (`period`: a quarter or so; `edge_period`: one whose first and last days are those on which
# declared partnerships end and begin), which sets start and end.
FILTERS: dict[str, tuple[str, ...]] = {
    "whole": (),
    "period": ("period",),
    "edge_period": ("edge_period",),
    "region": ("region",),
    "sector": ("sector",),
    "service_type": ("service_type",),
    "period_region_service": ("period", "region", "service_type"),
    "period_sector_service": ("period", "sector", "service_type"),
    "clock": ("as_of", "stall_days"),
    "clock_in_period": ("period", "region", "as_of", "stall_days"),
    "director": ("min_cell",),
    "director_in_period": ("period", "sector", "min_cell"),
}


def parameters(choice: str) -> tuple[str, ...]:
    return ("start", "end") if choice.endswith("period") else (choice,)


# ---------------------------------------------------------------------------------------------------
# The contract files, read with pandas
# ---------------------------------------------------------------------------------------------------

COLUMNS = {  # the columns each table needs here, by the type they are read as
    "agencies": {"agency_id": "text", "sector": "text", "region": "text", "is_victim_service": "bool"},
    "programs": {"program_id": "text", "agency_id": "text", "service_type": "text"},
    "partnerships": {"agency_a_id": "text", "agency_b_id": "text", "kind": "text",
                     "started_on": "date", "ended_on": "date"},
    "referrals": {"referral_id": "text", "from_agency_id": "text", "to_agency_id": "text",
                  "service_type": "text", "referred_at": "timestamp", "accepted_at": "timestamp",
                  "declined_at": "timestamp", "started_at": "timestamp", "completed_at": "timestamp"},
    "outcomes": {"agency_id": "text", "program_id": "text", "outcome": "text", "achieved_on": "date"},
    "capacity": {"program_id": "text", "month": "month", "slots": "int"},
    "needs": {"region": "text", "service_type": "text", "month": "month", "people_in_need": "int"},
}


def read_table(folder: Path, table: str) -> pd.DataFrame:
    """One contract CSV file as typed columns; a missing optional file or column is empty."""
    path = folder / f"{table}.csv"
    if path.exists():
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        raw.columns = [c.strip() for c in raw.columns]
    else:
        raw = pd.DataFrame(columns=list(COLUMNS[table]))
    out = {}
    for column, kind in COLUMNS[table].items():
        text = raw[column] if column in raw else pd.Series("", index=raw.index)
        text = text.astype(object).map(lambda v: v.strip() if isinstance(v, str) else "")
        text = text.where(text != "", None)
        if kind in ("timestamp", "date"):
            out[column] = pd.to_datetime(text, format="ISO8601")
        elif kind == "month":
            out[column] = pd.to_datetime(text, format="%Y-%m")
        elif kind == "int":
            out[column] = text.astype("Int64")
        elif kind == "bool":
            out[column] = text.fillna("false").str.lower().isin(["true", "t", "yes", "1"])
        else:
            out[column] = text
    return pd.DataFrame(out, index=raw.index)


@dataclass
class Community:
    """A community's files read with pandas, the database imported from them, and its filter values."""

    name: str
    db: Path
    tables: dict[str, pd.DataFrame]
    choices: dict[str, str] = field(default_factory=dict)
    runs: dict[tuple[str, str], dict] = field(default_factory=dict)  # (metric, filter): printed run

    def __post_init__(self):
        agencies = self.tables["agencies"].set_index("agency_id")
        referrals = self.tables["referrals"].copy()
        referrals["to_region"] = referrals["to_agency_id"].map(agencies["region"])
        referrals["to_sector"] = referrals["to_agency_id"].map(agencies["sector"])
        self.agencies = agencies
        self.referrals = referrals
        self.as_of = referrals[list(STAGES)].max().max()  # the latest timestamp of any stage

    def params(self, filter_name: str) -> dict[str, str]:
        """The query parameters of a filter, as text for the command line."""
        params = {}
        for choice in FILTERS[filter_name]:
            value = self.choices[choice]
            params.update(zip(parameters(choice), value) if choice.endswith("period") else {choice: value})
        return params

    def run_all(self, cases: list[tuple[str, str]]) -> None:
        """Print every (metric, filter) of `cases` with the command line: two batches side by side."""
        halves = [half for half in (cases[0::2], cases[1::2]) if half]
        with ThreadPoolExecutor(2) as pool:
            printed = pool.map(atlas_batch, [
                [query_args(self.db, metric, self.params(filter_name)) for metric, filter_name in half]
                for half in halves
            ])
            for half, runs in zip(halves, printed):
                self.runs.update(zip(half, runs))

    def printed(self, metric: str, filter_name: str) -> list[dict]:
        if (metric, filter_name) not in self.runs:
            self.run_all([(metric, filter_name)])
        args = query_args(self.db, metric, self.params(filter_name))
        return parse_records(self.runs[metric, filter_name], args)


# ---------------------------------------------------------------------------------------------------
# The metrics, written again from the spec
# ---------------------------------------------------------------------------------------------------


def days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Fractional days between two timestamp columns (null when either is)."""
    return (later - earlier).dt.total_seconds() / 86400


def quantile(values: pd.Series, q: float):
    """Continuous quantile with linear interpolation (DuckDB quantile_cont); null over no values."""
    values = values.dropna()
    return float(np.quantile(values.to_numpy(dtype=float), q)) if len(values) else None


def ratio(numerator, denominator):
    return numerator / denominator if denominator else None


def period_of(p: dict) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    start = pd.Timestamp(p["start"]) if p.get("start") else None
    end = pd.Timestamp(p["end"]) if p.get("end") else None
    return start, end


def within(dates: pd.Series, p: dict) -> pd.Series:
    """Whether each timestamp's calendar day lies in the inclusive period [start, end]."""
    start, end = period_of(p)
    day = dates.dt.normalize()
    keep = pd.Series(True, index=dates.index)
    if start is not None:
        keep &= day >= start
    if end is not None:
        keep &= day <= end
    return keep


def referrals_in(c: Community, p: dict, *, receiving_agency_filters: bool = True) -> pd.DataFrame:
    """Referrals made in the period, of the service type, to an agency of the region and sector."""
    r = c.referrals
    keep = within(r["referred_at"], p)
    if p.get("service_type"):
        keep &= r["service_type"] == p["service_type"]
    if receiving_agency_filters:
        if p.get("region"):
            keep &= r["to_region"] == p["region"]
        if p.get("sector"):
            keep &= r["to_sector"] == p["sector"]
    return r[keep]


def is_pending(r: pd.DataFrame) -> pd.Series:
    return r["accepted_at"].isna() & r["declined_at"].isna()


def referral_funnel(c: Community, p: dict) -> list[dict]:
    r = referrals_in(c, p)
    counts = {
        "referred": len(r),
        "accepted": r["accepted_at"].notna().sum(),
        "started": r["started_at"].notna().sum(),
        "completed": r["completed_at"].notna().sum(),
        "declined": r["declined_at"].notna().sum(),
        "pending": is_pending(r).sum(),
    }
    return [{"stage": stage, "referrals": int(n)} for stage, n in counts.items()]


def agency_bottlenecks(c: Community, p: dict) -> list[dict]:
    """Per receiving agency, internal referrals included. Stalled = pending (never accepted nor
    declined, as in the funnel) and more than stall_days old at as_of."""
    r = referrals_in(c, p)
    as_of = pd.Timestamp(p["as_of"]) if p.get("as_of") else c.as_of
    stall_days = float(p.get("stall_days") or DEFAULT_STALL_DAYS)
    rows = []
    for agency, g in r.groupby("to_agency_id"):
        pending = is_pending(g)
        waited = (as_of - g["referred_at"]).dt.total_seconds() / 86400
        accepted, declined = int(g["accepted_at"].notna().sum()), int(g["declined_at"].notna().sum())
        to_accept = days(g["accepted_at"], g["referred_at"])
        rows.append({
            "agency_id": agency,
            "received": len(g),
            "accepted": accepted,
            "declined": declined,
            "pending": int(pending.sum()),
            "stalled": int((pending & (waited > stall_days)).sum()),
            "acceptance_rate": ratio(accepted, accepted + declined),
            "median_days_to_accept": quantile(to_accept, 0.5),
            "p90_days_to_accept": quantile(to_accept, 0.9),
            "median_days_to_start": quantile(days(g["started_at"], g["referred_at"]), 0.5),
        })
    return rows


def partnerships_in_force(c: Community, p: dict) -> pd.DataFrame:
    """Declared ties in force at any time in the period: started_on <= end, ended_on null or >= start."""
    start, end = period_of(p)
    t = c.tables["partnerships"]
    keep = pd.Series(True, index=t.index)
    if end is not None:
        keep &= t["started_on"] <= end
    if start is not None:
        keep &= t["ended_on"].isna() | (t["ended_on"] >= start)
    return t[keep]


def network_edges(c: Community, p: dict) -> list[dict]:
    """Directed flows between different agencies (internal referrals are not a tie)."""
    r = referrals_in(c, p)
    r = r[r["from_agency_id"] != r["to_agency_id"]]
    kinds: dict[frozenset, set] = {}
    for t in partnerships_in_force(c, p).itertuples():
        kinds.setdefault(frozenset((t.agency_a_id, t.agency_b_id)), set()).add(t.kind)
    rows = []
    for (a, b), g in r.groupby(["from_agency_id", "to_agency_id"]):
        tie = kinds.get(frozenset((a, b)), set())
        rows.append({
            "from_agency_id": a,
            "to_agency_id": b,
            "referrals": len(g),
            "accepted": int(g["accepted_at"].notna().sum()),
            "agreement": "formal" if "formal" in tie else "informal" if "informal" in tie else "none",
        })
    return rows


def partnership_activity(c: Community, p: dict) -> list[dict]:
    """Header's choices: region and sector keep a partnership when either agency matches; the
    referrals counted are those of the period and service type (any region or sector), either
    direction, internal ones excluded."""
    ties = partnerships_in_force(c, p)
    region, sector = c.agencies["region"], c.agencies["sector"]
    if p.get("region"):
        ties = ties[(ties["agency_a_id"].map(region) == p["region"]) | (ties["agency_b_id"].map(region) == p["region"])]
    if p.get("sector"):
        ties = ties[(ties["agency_a_id"].map(sector) == p["sector"]) | (ties["agency_b_id"].map(sector) == p["sector"])]
    r = referrals_in(c, p, receiving_agency_filters=False)
    r = r[r["from_agency_id"] != r["to_agency_id"]]
    between = Counter(frozenset(pair) for pair in zip(r["from_agency_id"], r["to_agency_id"]))
    rows = []
    for t in ties.itertuples():
        n = between[frozenset((t.agency_a_id, t.agency_b_id))]
        rows.append({"agency_a_id": t.agency_a_id, "agency_b_id": t.agency_b_id, "kind": t.kind,
                     "referrals": n, "status": "dormant" if n == 0 else "active"})
    return rows


def need_vs_capacity(c: Community, p: dict) -> list[dict]:
    """Header's choices: a month is in the period when its first day is; demand counts every referral
    of the month (internal ones too) by the receiving agency's region; no sector."""
    needs = c.tables["needs"]
    need = needs.groupby(["region", "service_type", "month"])["people_in_need"].sum().to_dict()
    r = c.referrals
    months = r["referred_at"].dt.to_period("M").dt.start_time
    demand = r.groupby([r["to_region"], r["service_type"], months]).size().to_dict()
    slots = c.tables["capacity"].merge(c.tables["programs"], on="program_id")
    slots["region"] = slots["agency_id"].map(c.agencies["region"])
    capacity = slots.groupby(["region", "service_type", "month"])["slots"].sum().to_dict()
    start, end = period_of(p)
    rows = []
    for cell in set(need) | set(demand) | set(capacity):
        region, service_type, month = cell
        if (start is not None and month < start) or (end is not None and month > end):
            continue
        if p.get("region") and region != p["region"]:
            continue
        if p.get("service_type") and service_type != p["service_type"]:
            continue
        n, d, cap = int(need.get(cell, 0)), int(demand.get(cell, 0)), int(capacity.get(cell, 0))
        rows.append({"region": region, "service_type": service_type, "month": month.strftime("%Y-%m-%d"),
                     "need": n, "demand": d, "capacity": cap, "unmet_need": max(n - cap, 0),
                     "utilization": ratio(d, cap)})
    return rows


def wilson(positive: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval, in the (x + z²/2) / (n + z²) form."""
    z2 = Z * Z
    rate = positive / n
    centre = (positive + z2 / 2) / (n + z2)
    half = Z * math.sqrt(n) / (n + z2) * math.sqrt(rate * (1 - rate) + z2 / (4 * n))
    return centre - half, centre + half


def outcomes_by_program(c: Community, p: dict) -> list[dict]:
    """Header's choices: region and sector of the exiting agency, service type of the program (an
    exit without a program has none); victim-service agencies only when min_cell = 0."""
    min_cell = int(p.get("min_cell") or DEFAULT_MIN_CELL)
    o = c.tables["outcomes"]
    o = o[within(o["achieved_on"], p)]
    if p.get("region"):
        o = o[o["agency_id"].map(c.agencies["region"]) == p["region"]]
    if p.get("sector"):
        o = o[o["agency_id"].map(c.agencies["sector"]) == p["sector"]]
    if p.get("service_type"):
        program_service = c.tables["programs"].set_index("program_id")["service_type"]
        o = o[o["program_id"].map(program_service) == p["service_type"]]
    if min_cell != 0:
        o = o[~o["agency_id"].map(c.agencies["is_victim_service"]).astype(bool)]
    rows = []
    for (agency, program), g in o.groupby(["agency_id", "program_id"], dropna=False):
        exits = len(g)
        positive = int(g["outcome"].isin(POSITIVE_OUTCOMES).sum())
        others = exits - positive
        suppressed = exits < min_cell or 0 < positive < min_cell or 0 < others < min_cell
        low, high = wilson(positive, exits)
        shown = not suppressed
        rows.append({
            "agency_id": agency,
            "program_id": None if pd.isna(program) else program,
            "exits": exits if shown else None,
            "positive": positive if shown else None,
            "rate": positive / exits if shown else None,
            "ci_low": low if shown else None,
            "ci_high": high if shown else None,
            "suppressed": suppressed,
        })
    return rows


@dataclass(frozen=True)
class Metric:
    compute: Callable[[Community, dict], list[dict]]
    params: frozenset  # the parameters the named query takes
    key: tuple[str, ...]  # what identifies a row (the grain)
    exact: tuple[str, ...]  # counts, labels and flags: equal
    approx: tuple[str, ...] = ()  # rates, durations and percentiles: within TOLERANCE


METRICS = {
    "referral_funnel": Metric(referral_funnel, COMMON, ("stage",), ("referrals",)),
    "agency_bottlenecks": Metric(
        agency_bottlenecks, COMMON | {"as_of", "stall_days"}, ("agency_id",),
        ("received", "accepted", "declined", "pending", "stalled"),
        ("acceptance_rate", "median_days_to_accept", "p90_days_to_accept", "median_days_to_start")),
    "network_edges": Metric(network_edges, COMMON, ("from_agency_id", "to_agency_id"),
                            ("referrals", "accepted", "agreement")),
    # Partnerships have no id: their rows are compared as a multiset of (pair, kind, referrals, status).
    "partnership_activity": Metric(partnership_activity, COMMON, ("agency_a_id", "agency_b_id", "kind"),
                                   ("referrals", "status")),
    "need_vs_capacity": Metric(need_vs_capacity, COMMON - {"sector"}, ("region", "service_type", "month"),
                               ("need", "demand", "capacity", "unmet_need"), ("utilization",)),
    "outcomes_by_program": Metric(outcomes_by_program, COMMON | {"min_cell"}, ("agency_id", "program_id"),
                                  ("exits", "positive", "suppressed"), ("rate", "ci_low", "ci_high")),
}


CASES = [
    pytest.param(metric, filter_name, id=f"{metric}-{filter_name}")
    for metric, m in METRICS.items()
    for filter_name, choices in FILTERS.items()
    if {p for choice in choices for p in parameters(choice)} <= m.params
]


# ---------------------------------------------------------------------------------------------------
# The printed side: the command line
# ---------------------------------------------------------------------------------------------------

# Runs `python -m atlas ARGS...` once per line of ARGS read from stdin, in one interpreter: each run
# executes atlas/__main__.py afresh with its own sys.argv, exactly as `-m` does, and its exit code,
# stdout and stderr are collected. Starting Python and importing pandas and DuckDB once instead of
# ~90 times is what keeps this module fast; test_batched_runs_print_what_the_command_prints checks
# that the output is byte for byte that of separate `python -m atlas` processes.
BATCH = r"""
import contextlib, io, json, runpy, sys, traceback
results = []
for argv in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["atlas", *argv]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_module("atlas", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    results.append({"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
json.dump(results, sys.stdout)
"""


def _env() -> dict[str, str]:
    env = {**os.environ, "ATLAS_HMAC_KEY": HMAC_KEY}
    env.pop("ATLAS_DB", None)
    return env


def atlas(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m atlas ARGS` in a process of its own."""
    done = subprocess.run([sys.executable, "-m", "atlas", *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, f"atlas {' '.join(args)} failed:\n{done.stderr}"
    return done


def atlas_batch(runs: list[list[str]]) -> list[dict]:
    """`python -m atlas ARGS` for each ARGS in `runs`, in one subprocess (see BATCH)."""
    done = subprocess.run([sys.executable, "-c", BATCH], input=json.dumps(runs), cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def query_args(db: Path, name: str, params: dict[str, str]) -> list[str]:
    args = ["query", name, "--db", str(db), "--format", "json"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    return args


def parse_records(run: dict, args: list[str]) -> list[dict]:
    """The JSON a query printed, as records; checks the shape of the JSON on the way."""
    assert run["returncode"] == 0, f"atlas {' '.join(args)} failed:\n{run['stderr']}"
    records = json.loads(run["stdout"])
    assert isinstance(records, list) and all(isinstance(r, dict) for r in records), "a list of records"
    assert len({tuple(r) for r in records}) <= 1, "every record has the same columns"
    return records


def _selected(request, community: str) -> list[tuple[str, str]]:
    """The (metric, filter) comparisons selected in this run for `community`."""
    wanted = []
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        if spec is not None and item.module is request.module and spec.params.get("community") == community:
            if "metric" in spec.params:
                wanted.append((spec.params["metric"], spec.params["filter_name"]))
    return wanted


# ---------------------------------------------------------------------------------------------------
# The communities
# ---------------------------------------------------------------------------------------------------


def small_choices(c: Community) -> dict:
    """period: its first and last days hold referrals (R03 at 08:00 on 10 January, R09 at 09:00 on
    10 March), the A1-A3 protocol has ended and their informal tie begun, January's need and
    capacity fall outside it (the month starts before the period). edge_period: the A1-A3 protocol
    ends on its first day, the A3-A1 informal tie begins on its last, when R07 is referred and March
    begins. The nonprofit sector holds the victim-service agency A6. as_of falls before the last
    referrals (R10, R12, R13), when R07 has waited exactly stall_days (not stalled) and R03 more."""
    return {"period": ("2024-01-10", "2024-03-10"), "edge_period": ("2023-12-31", "2024-03-01"),
            "region": "North", "sector": "nonprofit", "service_type": "shelter",
            "as_of": "2024-03-20 06:00", "stall_days": "18.875", "min_cell": "0"}


def demo_choices(c: Community) -> dict:
    """The calendar quarter in the middle of the data; a period from the day a partnership ends
    (the median of the ends some start follows by 60 days or more) to the first day, 60 or more days
    later, on which one begins; the region and
    sector receiving most referrals, the service most referred to that region; as_of 20 days after
    the quarter (mid-data)."""
    r = c.referrals
    middle = r["referred_at"].min() + (r["referred_at"].max() - r["referred_at"].min()) / 2
    quarter = middle.to_period("Q")
    region = r["to_region"].value_counts().idxmax()
    ties = c.tables["partnerships"]
    ends = ties["ended_on"].dropna().sort_values()
    ends = ends[ends + pd.Timedelta(days=60) <= ties["started_on"].max()]  # a start follows 60 or more days later
    first = ends.iloc[len(ends) // 2]
    last = ties.loc[ties["started_on"] >= first + pd.Timedelta(days=60), "started_on"].min()
    return {
        "period": (quarter.start_time.strftime("%Y-%m-%d"), quarter.end_time.strftime("%Y-%m-%d")),
        "edge_period": (first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")),
        "region": region,
        "sector": r["to_sector"].value_counts().idxmax(),
        "service_type": r.loc[r["to_region"] == region, "service_type"].value_counts().idxmax(),
        "as_of": (quarter.end_time.normalize() + pd.Timedelta(days=20, hours=12)).strftime("%Y-%m-%d %H:%M:%S"),
        "stall_days": "30",
        "min_cell": "0",
    }


@pytest.fixture(scope="module")
def small_source(small_files, small_db) -> tuple[Path, Path]:
    return small_files, small_db


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory) -> tuple[Path, Path]:
    """The demo community as contract files (`atlas demo --csv`) and imported from them (`atlas import`)."""
    folder = tmp_path_factory.mktemp("demo_agreement")
    files = folder / "csv"
    atlas("demo", "--db", str(folder / "demo.duckdb"), "--csv", str(files), "--referrals", "20000")
    atlas("import", str(files), "--db", str(folder / "imported.duckdb"))
    return files, folder / "imported.duckdb"


CHOICES = {"small": small_choices, "demo": demo_choices}


@pytest.fixture(scope="module", params=list(CHOICES))
def community(request) -> Community:
    files, db = request.getfixturevalue(f"{request.param}_source")
    c = Community(request.param, db, {table: read_table(files, table) for table in COLUMNS})
    c.choices = CHOICES[request.param](c)
    c.run_all(_selected(request, request.param))
    return c


# ---------------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------------


def close(printed, expected) -> bool:
    if printed is None or expected is None:
        return printed is None and expected is None
    return isinstance(printed, (int, float)) and abs(printed - expected) <= TOLERANCE * max(1.0, abs(expected))


def assert_same_rows(printed: list[dict], expected: list[dict], metric: Metric) -> None:
    exact = metric.key + metric.exact
    columns = exact + metric.approx
    missing = [c for c in columns if printed and c not in printed[0]]
    assert not missing, f"the spec's columns {missing} are not printed"
    for row in printed:
        for column in metric.exact:
            if isinstance(row[column], float):
                pytest.fail(f"{column} is a count, printed as {row[column]!r} in {row}")
    # Counts and labels, as multisets of rows (the same row twice must be printed twice).
    got = Counter(tuple(r[c] for c in exact) for r in printed)
    want = Counter(tuple(r[c] for c in exact) for r in expected)
    assert got == want, (
        f"printed but not expected: {sorted(got - want, key=repr)}\n"
        f"expected but not printed: {sorted(want - got, key=repr)}")
    if metric.approx:
        by_key = {tuple(r[c] for c in metric.key): r for r in printed}
        assert len(by_key) == len(printed), "one row per key"
        for row in expected:
            shown = by_key[tuple(row[c] for c in metric.key)]
            wrong = {c: (shown[c], row[c]) for c in metric.approx if not close(shown[c], row[c])}
            assert not wrong, f"row {row}: printed vs expected {wrong}"


@pytest.mark.parametrize("metric, filter_name", CASES)
def test_printed_metric_agrees_with_independent_computation(community, metric, filter_name):
    params = community.params(filter_name)
    expected = METRICS[metric].compute(community, params)
    if filter_name == "whole":
        assert expected, f"{metric}: the {community.name} community should give rows on the whole data"
    assert_same_rows(community.printed(metric, filter_name), expected, METRICS[metric])


# ---------------------------------------------------------------------------------------------------
# The data and the JSON format
# ---------------------------------------------------------------------------------------------------


def test_filters_select_something_in_the_demo(request):
    """The demo's filter values are real: each cuts the referrals to a non-empty, smaller part."""
    files, _ = request.getfixturevalue("demo_source")
    c = Community("demo", Path(), {table: read_table(files, table) for table in COLUMNS})
    c.choices = demo_choices(c)
    for name in ("period", "edge_period", "region", "sector", "service_type", "period_region_service"):
        assert 0 < len(referrals_in(c, c.params(name))) < len(c.referrals), name


def test_demo_files_round_trip(demo_source):
    """The demo's own database and the one imported from its CSV files hold the same data."""
    _, imported = demo_source
    args = [query_args(db, "data_extent", {}) for db in (imported.parent / "demo.duckdb", imported)]
    [built], [loaded] = (parse_records(run, a) for run, a in zip(atlas_batch(args), args))
    built.pop("imported_at"), loaded.pop("imported_at")
    assert built == loaded and built["referrals"] == 20000


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")


def test_batched_runs_print_what_the_command_prints(small_source):
    """The batch (one interpreter, many runs of atlas/__main__.py) prints byte for byte what separate
    `python -m atlas` processes print, exit codes and errors included."""
    _, db = small_source
    runs = [
        query_args(db, "agency_bottlenecks", {"start": "2024-01-10", "end": "2024-03-10", "sector": "health"}),
        ["query", "need_vs_capacity", "--db", str(db), "--param", "sector=health"],
    ]
    batched = atlas_batch(runs)
    for args, run in zip(runs, batched):
        alone = atlas(*args, check=False)
        assert (run["returncode"], run["stdout"], run["stderr"]) == (alone.returncode, alone.stdout, alone.stderr)
    assert batched[-1]["returncode"] == 2, "need_vs_capacity refuses a sector (need is by region only)"


def test_json_is_records_with_nulls_and_iso_dates(small_source):
    _, db = small_source
    names = ("partnership_activity", "need_vs_capacity", "data_extent", "agency_bottlenecks")
    runs = atlas_batch([query_args(db, name, {}) for name in names])
    assert all(run["returncode"] == 0 for run in runs), [run["stderr"] for run in runs]
    assert all("NaN" not in run["stdout"] for run in runs)
    partnerships, needs, [extent], bottlenecks = (json.loads(run["stdout"]) for run in runs)

    assert all(isinstance(r["started_on"], str) and ISO_DATE.match(r["started_on"]) for r in partnerships)
    assert {(r["agency_a_id"], r["agency_b_id"]): r["ended_on"] for r in partnerships}[("A1", "A3")] == "2023-12-31"
    assert any(r["ended_on"] is None for r in partnerships) and "null" in runs[0]["stdout"]

    months = [r["month"] for r in needs]
    assert "2024-01-01" in months and all(isinstance(m, str) and ISO_DATE.match(m) for m in months)

    assert (extent["first_referral"], extent["as_of"]) == ("2023-06-01", "2024-03-31T12:00:00")
    assert ISO_TIMESTAMP.match(extent["imported_at"])

    by_agency = {r["agency_id"]: r for r in bottlenecks}
    assert by_agency["A4"]["median_days_to_start"] is None  # no started referral: null, not NaN
    assert by_agency["A6"]["is_victim_service"] is True


def test_json_prints_suppressed_counts_as_null(small_source):
    """Suppressed cells print null counts (pandas holds them as <NA> in nullable integer columns)."""
    _, db = small_source
    args = query_args(db, "outcomes_by_program", {})
    outcomes = parse_records(atlas_batch([args])[0], args)
    suppressed = [r for r in outcomes if r["suppressed"] is True]
    assert suppressed and all(r[c] is None for r in suppressed for c in ("exits", "positive", "rate", "ci_low", "ci_high"))
    assert any(r["program_id"] is None for r in outcomes)  # exits recorded against the agency only
    shown = [r for r in outcomes if r["suppressed"] is False]
    assert shown and all(type(r["exits"]) is int and type(r["positive"]) is int for r in shown)
