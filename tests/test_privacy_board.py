"""Privacy of the board's network views, protected as a set (issue 30).

On the continuum (a community of ordinary size, where nearly every pair of agencies exchanges a handful of
referrals a quarter), on the small dense demo and on a network built here to tempt differencing, for a
calendar year and its quarters together:

- the figures the board sees (region and sector flows, formal versus real by region pair, the agency flows
  the maps draw) are the counts of an independent computation over the community's own CSV files;
- the whole published set, rebuilt here from what the page, its tables, tooltips, exports and the board pack
  show (and the Overview's referral total), passes the linear-programming audit of
  `atlas.views.suppression.ranges`: no hidden count of 1..10 can be pinned below 11;
- in Chromium, the served board map on the continuum draws the arrows between regions and no count of 1..10.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files

from atlas.db import Atlas
from atlas.filters import Filters
from atlas.ingest import importer
from atlas.packs import board
from atlas.views import network, suppression
from atlas.vocab import group_label

M = 11
ROOT = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*(?![\w.,%])")


@pytest.fixture(scope="module")
def continuum(tmp_path_factory) -> tuple[Path, Path]:
    """The continuum built by the real command, with its contract files beside it."""
    folder = tmp_path_factory.mktemp("continuum_board")
    db, files = folder / "atlas.duckdb", folder / "files"
    done = subprocess.run([sys.executable, "-m", "atlas", "demo", "--profile", "continuum", "--db", str(db),
                           "--csv", str(files)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return db, files


def quarter(year: int, q: int) -> Filters:
    start = dt.date(year, 3 * q - 2, 1)
    end = (dt.date(year + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1))
    return Filters(start, end, aligned="quarter")


def year(y: int) -> Filters:
    return Filters(dt.date(y, 1, 1), dt.date(y, 12, 31), aligned="year")


# --------------------------------------------------------------------------------------------
# The independent computation: plain pandas over the community's files
# --------------------------------------------------------------------------------------------

def base_cells(files: Path, y: int) -> tuple[pd.DataFrame, list[int]]:
    """Per quarter of year `y` and ordered pair of different agencies (victim-service agencies aside): the
    referrals, both agencies' region and sector, and whether a formal agreement was in force in the quarter and
    in the year; and each quarter's referrals the map never draws (internal, or a victim-service agency's)."""
    agencies = pd.read_csv(files / "agencies.csv", dtype=str).set_index("agency_id")
    victim = agencies["is_victim_service"].fillna("false").str.lower().isin(["true", "1", "yes"])
    r = pd.read_csv(files / "referrals.csv", dtype=str, usecols=["from_agency_id", "to_agency_id", "referred_at"])
    r["at"] = pd.to_datetime(r["referred_at"])
    r = r[r["at"].dt.year == y]
    r["q"] = (r["at"].dt.month - 1) // 3
    drawn = (r["from_agency_id"] != r["to_agency_id"]) & ~r["from_agency_id"].map(victim) & ~r["to_agency_id"].map(victim)
    others = [int(((r["q"] == q) & ~drawn).sum()) for q in range(4)]
    cells = r[drawn].groupby(["q", "from_agency_id", "to_agency_id"]).size().rename("n").reset_index()
    for by in ("region", "sector"):
        cells[f"f_{by}"] = cells["from_agency_id"].map(agencies[by])
        cells[f"t_{by}"] = cells["to_agency_id"].map(agencies[by])
    p = pd.read_csv(files / "partnerships.csv", dtype=str)
    p = p[p["kind"] == "formal"]
    started, ended = pd.to_datetime(p["started_on"]), pd.to_datetime(p["ended_on"])

    def formal(start, end) -> set:
        live = p[(started <= pd.Timestamp(end)) & (ended.isna() | (ended >= pd.Timestamp(start)))]
        return {frozenset(t) for t in zip(live["agency_a_id"], live["agency_b_id"])}

    in_year = formal(dt.date(y, 1, 1), dt.date(y, 12, 31))
    quarters = [formal(quarter(y, q + 1).start, quarter(y, q + 1).end) for q in range(4)]
    pair = [frozenset(t) for t in zip(cells["from_agency_id"], cells["to_agency_id"])]
    cells["formal_q"] = [k in quarters[q] for k, q in zip(pair, cells["q"])]
    cells["formal_y"] = [k in in_year for k in pair]
    return cells, others


def every_figure(cells: pd.DataFrame, others: list[int], period: int, quarters: list[int]) -> dict:
    """Every figure of the board's set of one period (the quarters listed), by key, as the cells it adds up
    (indices; the quarter's other part is `len(cells) + q`)."""
    out: dict = {}
    rows = np.flatnonzero(cells["q"].isin(quarters).to_numpy())
    part = cells.iloc[rows]
    formal = part["formal_q" if len(quarters) == 1 else "formal_y"].to_numpy()
    for (a, b), i in part.groupby(["from_agency_id", "to_agency_id"]).indices.items():
        out[(period, "flow", a, b)] = rows[i]
    for by in ("region", "sector"):
        frm, to = part[f"f_{by}"].to_numpy(), part[f"t_{by}"].to_numpy()
        for (a, b), i in part.groupby([f"f_{by}", f"t_{by}"]).indices.items():
            out[(period, by, a, b)] = rows[i]
            if by == "region" and a != b:
                out[(period, "formal", a, b)] = rows[i][formal[i]]
                out[(period, "without", a, b)] = rows[i][~formal[i]]
        for g in set(frm) | set(to):
            masks = {"within": (frm == g) & (to == g), "sent": (frm == g) & (to != g), "received": (frm != g) & (to == g)}
            masks["referrals"] = masks["within"] | masks["sent"] | masks["received"]
            for name, mask in masks.items():
                out[(period, f"{by}_volume", g, name)] = rows[mask]
    out[(period, "total")] = np.concatenate([rows, [len(cells) + q for q in quarters]])
    return {k: v for k, v in out.items() if len(v)}


# --------------------------------------------------------------------------------------------
# What the board sees, read back from the page's views, tables and exports, and the board pack
# --------------------------------------------------------------------------------------------

def _count(text: str) -> int | None:
    return None if text == network.HIDDEN else int(str(text).replace(",", ""))


def shown_figures(db, filters: Filters, period: int) -> dict:
    """Every figure the board can read for the period, by key, with its value: the agency map's flows (the map,
    its table, GEXF and the pack's tables come from them), the summary maps' tables by region and by sector,
    formal versus real by region pair, and the Overview's referral total."""
    out: dict = {}
    view = network.build(db, filters, network.MapChoice(min_referrals=M, top_edges=10 ** 6), min_cell=M)
    graph = network.to_networkx(view)  # the GEXF and GraphML downloads
    for a, b, data in graph.edges(data=True):
        out[(period, "flow", a, b)] = int(data["weight"])
    for by in ("region", "sector"):
        summary = network.summary_view(db, filters, by=by, min_cell=M)
        names = {group_label(by, g): g for g in summary.nodes["group"]}
        kind = network.SUMMARY_BY[by]
        for row in summary.flows_table.itertuples(index=False):
            n = _count(row[2])
            if n is not None:
                out[(period, by, names[row[0]], names[row[1]])] = n
        for row in summary.table.itertuples(index=False):
            g = names[row[0]]
            for name, value in zip(("within", "sent", "received", "referrals"), row[2:6]):
                n = _count(value)
                if n is not None:
                    out[(period, f"{by}_volume", g, name)] = n
                    if name == "within":
                        out[(period, by, g, g)] = n
        assert kind in summary.table.columns
    names = {group_label("region", g): g for g in network.summary_view(db, filters, min_cell=M).nodes["group"]}
    for row in view.region_formal.itertuples(index=False):
        a, b = names[row[0]], names[row[1]]
        for key, value in (("formal", row[3]), ("without", row[4])):
            if _count(value) is not None:
                out[(period, key, a, b)] = _count(value)
    out[(period, "total")] = int(db.query("network_summary", start=filters.start, end=filters.end)["referrals"].iloc[0])
    return {k: v for k, v in out.items() if v}


def pack_figures(db, filters: Filters, period: int) -> dict:
    """The board pack's region figures (its tables as printed), by key."""
    pack = board.build(db, filters, min_cell=M)
    out = {}
    names = {group_label("region", g): g for g in pack.summary.nodes["group"]}
    for row in pack.summary.flows_table.itertuples(index=False):
        if _count(row[2]) is not None:
            out[(period, "region", names[row[0]], names[row[1]])] = _count(row[2])
    for a, b, data in network.to_networkx(pack.network).edges(data=True):
        out[(period, "flow", a, b)] = int(data["weight"])
    return out


# --------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------

def audit(cells: pd.DataFrame, others: list[int], figures: dict, shown: dict) -> list:
    """The hidden figures of 1..M-1 that what is shown pins below M (`suppression.ranges`, the tests' LP audit).

    Cells that lie in the same shown figures are merged first (a reader cannot tell them apart, so the largest
    value of a hidden figure is the largest total of the merged cells it touches: no bound changes); a hidden
    figure whose merged cells hold M in the data is safe without a solver (the data is a witness)."""
    values = np.concatenate([cells["n"].to_numpy(float), np.asarray(others, float)])
    for key, value in shown.items():  # every shown figure is the independent count
        assert key in figures, key
        assert values[figures[key]].sum() == value, (key, value, values[figures[key]].sum())
    published = [figures[k] for k in shown]
    signature: dict[int, list[int]] = {}
    for f, members in enumerate(published):
        for c in members:
            signature.setdefault(int(c), []).append(f)
    code = pd.factorize(pd.Series([tuple(signature.get(c, ())) for c in range(len(values))]))[0]
    mass = np.bincount(code, values)
    targets = [(k, np.unique(code[m])) for k, m in figures.items()
               if k not in shown and 1 <= values[m].sum() < M]
    targets = [(k, c) for k, c in targets if mass[c].sum() < M]
    if not targets:
        return []
    lines = [np.unique(code[m]) for m in published] + [c for _, c in targets]
    hidden_lines = np.r_[np.zeros(len(published), bool), np.ones(len(targets), bool)]
    _, _, _, high = suppression.ranges(mass, np.ones(len(mass), bool), lines, hidden_lines,
                                       targets=np.zeros((len(mass), 1), bool), need_low=False)
    return [(k, high[len(published) + i, 0]) for i, (k, _) in enumerate(targets)
            if high[len(published) + i, 0] < M]


def year_set(db, files: Path, y: int, with_year: bool = True) -> tuple:
    cells, others = base_cells(files, y)
    figures, shown = {}, {}
    for q in range(4):
        figures |= every_figure(cells, others, q, [q])
        shown |= shown_figures(db, quarter(y, q + 1), q)
    if with_year:
        figures |= every_figure(cells, others, 4, [0, 1, 2, 3])
        shown |= shown_figures(db, year(y), 4)
    return cells, others, figures, shown


# --------------------------------------------------------------------------------------------
# The continuum
# --------------------------------------------------------------------------------------------

def test_the_board_sees_every_region_pair_of_the_continuum_counted_from_every_referral(continuum):
    db_path, files = continuum
    cells, others = base_cells(files, 2025)
    q4 = cells[cells["q"] == 3]
    between = q4[q4["f_region"] != q4["t_region"]].groupby(["f_region", "t_region"])["n"].sum()
    with Atlas(db_path) as db:
        summary = network.summary_view(db, quarter(2025, 4), by="region", min_cell=M)
        sectors = network.summary_view(db, quarter(2025, 4), by="sector", min_cell=M)
        view = network.build(db, quarter(2025, 4), network.default_choice(M), min_cell=M)
    assert len(between) == 20 and between.min() == 41 and between.max() == 157
    arrows = summary.arrows.set_index(["from_group", "to_group"])["referrals"]
    assert len(arrows) == 20 and len(summary.drawing.edges) == 20
    assert arrows.sort_index().to_dict() == between.sort_index().to_dict()
    assert {e["label"] for e in summary.drawing.edges} == {f"{n:,}" for n in between}  # each arrow labelled
    assert "All 20 region pairs' figures are shown" in network.summary_caption("region", M, summary)
    # between sectors: every pair the board sees is the count, and a hidden one reads "hidden" with no arrow
    sector = q4[q4["f_sector"] != q4["t_sector"]].groupby(["f_sector", "t_sector"])["n"].sum()
    shown = sectors.arrows.set_index(["from_group", "to_group"])["referrals"]
    assert len(shown) >= 20 and all(sector[k] == n for k, n in shown.items())
    hidden = sectors.between[~sectors.between["shown"]]
    assert (sectors.flows_table["Referrals"] == network.HIDDEN).sum() == len(hidden)
    # formal versus real by region pair: the count of referrals over an agreement in force that quarter
    formal = q4[(q4["f_region"] != q4["t_region"]) & q4["formal_q"]].groupby(["f_region", "t_region"])["n"].sum()
    table = view.region_formal
    assert len(table) == 20 and (table["Over a formal agreement"] != network.HIDDEN).sum() >= 18
    for row in table.itertuples(index=False):
        if row[3] != network.HIDDEN:
            assert int(row[3].replace(",", "")) == formal.get((row[0], row[1]), 0)


def test_the_boards_whole_set_of_the_latest_quarter_of_the_continuum_passes_the_audit(continuum):
    """2025 Q4, the quarter the board first sees, with everything shown of it. (The year with its quarters is
    audited together on the network built to tempt differencing below; on the continuum a year's protection and
    audit take minutes, so they are checked by `python tests/test_privacy_board.py DB FILES YEAR`.)"""
    db_path, files = continuum
    cells, others = base_cells(files, 2025)
    with Atlas(db_path) as db:
        shown = shown_figures(db, quarter(2025, 4), 3)
    assert not audit(cells, others, every_figure(cells, others, 3, [3]), shown)


def test_a_quarter_of_the_small_dense_demo_passes_the_audit(demo_db, tmp_path):
    """The dense demo's latest whole quarter and the quarter before (its own files written by the command)."""
    from atlas.cli import main

    files = tmp_path / "files"
    assert main(["demo", "--db", str(tmp_path / "again.duckdb"), "--referrals", "20000", "--agencies", "150",
                 "--csv", str(files)]) == 0
    with Atlas(demo_db) as db:
        cells, others = base_cells(files, 2025)
        figures, shown = {}, {}
        for q in (4,):
            figures |= every_figure(cells, others, q - 1, [q - 1])
            shown |= shown_figures(db, quarter(2025, q), q - 1)
    assert not audit(cells, others, figures, shown)


# --------------------------------------------------------------------------------------------
# A network built to tempt differencing
# --------------------------------------------------------------------------------------------

TEMPTING_AGENCIES = """agency_id,name,sector,region,is_victim_service
A1,Harbor House,nonprofit,North,false
A2,City Hospital,health,North,false
A3,Riverside Counselling,health,South,false
A4,Housing Authority,government,South,false
A5,St Mark's Church,faith,North,false
A6,Safe Haven,nonprofit,South,true
A7,Lone Pantry,community,East,false
A8,West Clinic,health,West,false
A9,West Shelter,nonprofit,West,false
"""
# (from, to, referrals a quarter in Q1-Q3, in Q4): East is one agency alone (its flows are its region's),
# West and South differ by one agency's flows, the fourth quarter is small, and a victim-service agency
# receives a handful
TEMPTING_FLOWS = [("A1", "A3", 30, 4), ("A3", "A1", 14, 2), ("A2", "A4", 12, 1), ("A4", "A2", 9, 3),
                  ("A5", "A7", 6, 1), ("A7", "A1", 13, 2), ("A7", "A3", 3, 0), ("A8", "A3", 12, 5),
                  ("A9", "A4", 2, 1), ("A3", "A8", 16, 0), ("A1", "A5", 25, 6), ("A3", "A6", 4, 1),
                  ("A2", "A1", 11, 9), ("A9", "A8", 5, 5)]


def tempting_files() -> dict[str, str]:
    rows = [SMALL_COMMUNITY["referrals.csv"].rstrip("\n")]
    n = 0
    for a, b, usual, last in TEMPTING_FLOWS:
        for q in range(4):
            for i in range(usual if q < 3 else last):
                n += 1
                rows.append(f"T{n:05d},C{n % 89},{a},{b},shelter,2025-{3 * q + 1 + i % 3:02d}-{1 + i % 27:02d} 09:00,,,,,,")
    files = dict(SMALL_COMMUNITY)
    files["agencies.csv"] = TEMPTING_AGENCIES
    files["referrals.csv"] = "\n".join(rows) + "\n"
    files["partnerships.csv"] = SMALL_COMMUNITY["partnerships.csv"] + "A7,A1,formal,mou,2025-04-01,,3,3\n"
    return files


@pytest.fixture(scope="module")
def tempting(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tempting_board")
    files = write_files(root / "files", tempting_files())
    importer.import_folder(files, root / "atlas.duckdb", TEST_KEY)
    return root / "atlas.duckdb", files


def test_a_network_built_to_tempt_differencing_passes_the_audit_year_and_quarters_together(tempting):
    db_path, files = tempting
    with Atlas(db_path) as db:
        cells, others, figures, shown = year_set(db, files, 2025)
        shown |= pack_figures(db, year(2025), 4)
        assert not audit(cells, others, figures, shown)
        # East is one agency: its region's figures are that agency's, and the set shows them only when they may
        # be shown; the fourth quarter is small, so the year hides what the quarters would give away
        east = network.summary_view(db, quarter(2025, 4), by="region", min_cell=M)
        q4 = east.table.set_index("Region")
    assert q4.loc["East", "Referrals"] == network.HIDDEN
    assert any(k[0] == 4 and k[1] == "region" for k in figures if k not in shown)  # the year hides region figures



# --------------------------------------------------------------------------------------------
# In a real browser: the board's map of the continuum as served
# --------------------------------------------------------------------------------------------

def test_the_served_board_map_of_the_continuum_draws_the_region_arrows_and_no_small_count(continuum, tmp_path,
                                                                                           browser):
    from browser import map_texts, served

    counted = re.compile(r"(\d[\d,]*) referrals")
    with served(continuum[0], tmp_path / "streamlit.log", env={"ATLAS_LOCAL_ROLE": "board"}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(url + "/network")
        page.get_by_role("heading", name="Formal versus real").wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        maps = map_texts(page)
        main = page.locator('[data-testid="stMain"]').inner_text()
    assert "2025 Q4" in main
    summary = maps[0]
    assert len(summary["edges"]) == 20  # every ordered pair of the five regions, each its own arrow
    text = json.dumps(maps, ensure_ascii=False) + main  # tooltips, legends and everything the page writes
    text = text.replace(f"1 to {M - 1} referrals", "")  # the small-numbers note's words, not a count
    counts = [int(n.replace(",", "")) for n in counted.findall(text)]
    assert counts and all(n >= M for n in counts), sorted(counts)[:5]
    assert "Domestic Abuse" not in text and "Refuge" not in text  # victim-service agencies are never named


if __name__ == "__main__":  # the year and its quarters of a built demo, audited together (slow: minutes)
    with Atlas(Path(sys.argv[1])) as atlas_db:
        year_cells, year_others, year_figures, year_shown = year_set(atlas_db, Path(sys.argv[2]), int(sys.argv[3]))
        year_shown |= pack_figures(atlas_db, year(int(sys.argv[3])), 4)
    found = audit(year_cells, year_others, year_figures, year_shown)
    print(f"{len(year_shown):,} figures shown of {len(year_figures):,}; exposed: {found or 'none'}")
