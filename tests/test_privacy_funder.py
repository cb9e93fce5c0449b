"""Issue 30, the funders' side: the periods board and funders choose (whole quarters and whole years,
compared only with their like), the funders' published set computed from all records and protected as a
set (Outcomes page, Overview, funder pack, CSV), checked against an independent computation and by the LP
audit over a year and its quarters together, on the continuum, the dense demo and a network built to
tempt differencing."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from atlas import vocab
from atlas.db import Atlas
from atlas.filters import Filters, board_periods, period_end, whole_period
from atlas.packs import funder as report
from atlas.views import outcomes, overview, suppression

# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------

FIRST, LAST = dt.date(2023, 1, 1), dt.date(2025, 12, 31)


def test_board_periods_are_whole_quarters_then_whole_years_latest_quarter_first():
    periods = board_periods(dt.date(2022, 2, 14), dt.date(2025, 11, 3))
    labels = [label for label, *_ in periods]
    assert labels[0] == "2025 Q3", "the default: the latest whole quarter (2025 Q4 has not ended)"
    assert labels[:3] == ["2025 Q3", "2025 Q2", "2025 Q1"]
    assert [x for x in labels if " " not in x] == ["2024", "2023", "2022"], "2025 has not ended"
    assert labels.index("2022 Q1") < labels.index("2024"), "every quarter before any year"
    for label, _start, end, length in periods:
        assert end <= dt.date(2025, 11, 3), "only periods that have ended"
        assert (length == "year") == (" " not in label)


def test_within_a_length_periods_never_overlap_and_are_compared_with_their_like():
    periods = board_periods(FIRST, LAST)
    offered = {(start, end, length) for _, start, end, length in periods}
    for length in ("quarter", "year"):
        spans = sorted((s, e) for _, s, e, n in periods if n == length)
        for (_, e1), (s2, _) in itertools.pairwise(spans):
            assert e1 + dt.timedelta(days=1) == s2
        for start, end in spans[1:]:
            before = Filters(start, end, aligned=length).previous()
            assert (before.start, before.end, before.aligned) in offered, "compared only with one of its like"
    q = Filters(dt.date(2025, 10, 1), dt.date(2025, 12, 31), aligned="quarter").previous()
    assert (q.start, q.end) == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    y = Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31), aligned="year").previous()
    assert (y.start, y.end, y.aligned) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31), "year")


def test_a_year_nests_exactly_its_four_quarters():
    periods = board_periods(FIRST, LAST)
    quarters = [(s, e) for _, s, e, n in periods if n == "quarter"]
    for _, start, end, length in periods:
        if length == "year":
            inside = sorted((s, e) for s, e in quarters if start <= s and e <= end)
            assert len(inside) == 4 and inside[0][0] == start and inside[-1][1] == end
            assert all(e1 + dt.timedelta(days=1) == s2 for (_, e1), (s2, _) in itertools.pairwise(inside))


def test_only_a_whole_period_of_the_whole_network_is_honoured():
    q4 = Filters(dt.date(2025, 10, 1), dt.date(2025, 12, 31), aligned="quarter")
    assert whole_period(q4, FIRST, LAST)
    assert whole_period(Filters(dt.date(2024, 1, 1), dt.date(2024, 12, 31), aligned="year"), FIRST, LAST)
    assert not whole_period(Filters(q4.start, q4.end, region="North", aligned="quarter"), FIRST, LAST)
    assert not whole_period(Filters(q4.start, q4.end), FIRST, LAST), "a director's free period"
    assert not whole_period(Filters(dt.date(2025, 10, 1), dt.date(2025, 11, 30), aligned="quarter"), FIRST, LAST)
    assert not whole_period(Filters(dt.date(2026, 1, 1), dt.date(2026, 3, 31), aligned="quarter"), FIRST, LAST)


# --------------------------------------------------------------------------------------------
# The funders' published set: figures from all records, and the LP audit over a year and its quarters
# --------------------------------------------------------------------------------------------

M = 11
POSITIVE = ("housed_permanent", "housed_temporary", "employed", "income_increased", "education_enrolled",
            "health_connected")  # the contract's positive outcomes, written out here rather than imported


@pytest.fixture(scope="module")
def continuum(tmp_path_factory) -> tuple[Path, Path]:
    """The continuum built once by the real command, with its contract files beside it."""
    from atlas.cli import main

    root = tmp_path_factory.mktemp("continuum")
    assert main(["demo", "--profile", "continuum", "--db", str(root / "atlas.duckdb"), "--csv", str(root / "csv")]) == 0
    return root / "atlas.duckdb", root / "csv"


def truth(db_path: Path, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Each (agency, program)'s exits and positive exits in a period, outside the victim-service agencies,
    with the groups it belongs to: a direct DuckDB query over the base tables, not the named queries."""
    positive = ", ".join(f"'{o}'" for o in POSITIVE)
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(f"""
            select o.agency_id || '|' || coalesce(o.program_id, '') as key, a.region, a.name as agency,
                   coalesce(p.service_type, '') as service_type, coalesce(p.funder, '') as funder,
                   count(*) as exits, count(*) filter (where o.outcome in ({positive})) as positive
            from outcomes o join agencies a using (agency_id) left join programs p on p.program_id = o.program_id
            where not coalesce(a.is_victim_service, false) and o.achieved_on between ? and ?
            group by all order by key""", [start, end]).df()


def year_periods(year: int) -> list[Filters]:
    quarters = [Filters(dt.date(year, m, 1), period_end(dt.date(year, m, 1), "quarter"), aligned="quarter")
                for m in (1, 4, 7, 10)]
    return [*quarters, Filters(dt.date(year, 1, 1), dt.date(year, 12, 31), aligned="year")]


def service(value: str) -> str:
    return vocab.label(value) if value else outcomes.NO_PROGRAM


def read_csv(view) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(report.csv(view)), encoding="utf-8-sig", dtype={"group": str})


def published(db_path: Path, year: int) -> list[tuple[Filters, object, pd.DataFrame]]:
    """What a funder can read for a year and its quarters: each period's Outcomes view (the page and the pack
    draw it), its CSV as the download writes it, and the Overview's rate, which must be the same figure."""
    out = []
    with Atlas(db_path) as db:
        for filters in year_periods(year):
            view = outcomes.build(db, filters, min_cell=M)
            rate = {f.key: f for f in overview.build(db, filters, min_cell=M).figures}["positive_exit_rate"]
            if view.network["hidden"]:
                assert rate.text() == "hidden"
            else:
                assert rate.value == pytest.approx(view.network["rate"]), "the Overview and Outcomes agree"
            out.append((filters, view, read_csv(view)))
    return out


def check_against_truth(db_path: Path, sets) -> None:
    """Every figure shown equals the independent computation; every hidden one reads "hidden" in the CSV."""
    for filters, view, csv in sets:
        cells = truth(db_path, filters.start, filters.end)
        network = view.network
        if not network["hidden"]:
            assert (network["exits"], network["positive"]) == (cells["exits"].sum(), cells["positive"].sum())
        row = csv[csv["table"] == "network"].iloc[0]
        assert (row["note"] == "hidden") == bool(network["hidden"])
        groups = {"service_type": cells.assign(g=cells["service_type"].map(service)),
                  "region": cells.assign(g=cells["region"]),
                  "funder": cells.assign(g=cells["funder"].replace("", outcomes.NO_FUNDER))}
        for kind, frame in groups.items():
            sums = frame.groupby("g")[["exits", "positive"]].sum()
            table = view.by[kind]
            assert set(table["group"]) == set(sums.index[sums["exits"] > 0])
            for r in table.itertuples():
                if not r.suppressed:
                    assert (r.exits, r.positive) == tuple(sums.loc[r.group]), (filters, kind, r.group)
            shown = csv[csv["table"] == f"by_{kind}"].set_index("group")
            assert set(shown.index[shown["note"] == "hidden"]) == set(table.loc[table["suppressed"], "group"])
            assert shown.loc[shown["note"] != "hidden", ["exits", "positive"]].isna().sum().sum() == 0
        programs = view.programs.set_index("key")
        truth_rows = cells.set_index("key")
        assert set(programs.index) == set(truth_rows.index[truth_rows["exits"] > 0])
        for key, r in programs[~programs["suppressed"]].iterrows():
            assert (r["exits"], r["positive"]) == tuple(truth_rows.loc[key, ["exits", "positive"]])


def audit(db_path: Path, sets) -> tuple[int, int]:
    """The LP audit over everything published for a year and its quarters, rebuilt from what the views show:
    base cells are (quarter, program) with their true counts; every figure shown is a line over them. Returns
    (hidden small counts audited, hidden figures) after checking no hidden small count can be pinned below M."""
    quarters = [truth(db_path, f.start, f.end) for f, _, _ in sets[:4]]
    keys = sorted(set().union(*(set(q["key"]) for q in quarters)))
    attrs = pd.concat(quarters).drop_duplicates("key").set_index("key")
    n = len(keys)
    values = np.zeros((4 * n, 2))
    for q, cells in enumerate(quarters):
        index = [keys.index(k) + q * n for k in cells["key"]]
        values[index, 0] = cells["positive"]
        values[index, 1] = cells["exits"] - cells["positive"]
    hidden = np.zeros(4 * n, bool)
    lines, lines_hidden = [], []
    member = {"service_type": attrs["service_type"].map(service), "region": attrs["region"],
              "funder": attrs["funder"].replace("", outcomes.NO_FUNDER)}
    for p, (_, view, _) in enumerate(sets):
        span = range(4) if p == 4 else [p]
        for r in view.programs.itertuples():
            base = [keys.index(r.key) + q * n for q in span]
            if p < 4:
                hidden[base[0]] = r.suppressed
            else:
                lines.append(np.array(base))
                lines_hidden.append(bool(r.suppressed))
        for kind in ("service_type", "region", "funder"):
            for r in view.by[kind].itertuples():
                inside = [i for i, k in enumerate(keys) if member[kind][k] == r.group]
                lines.append(np.array([i + q * n for q in span for i in inside]))
                lines_hidden.append(bool(r.suppressed))
        lines.append(np.array([i + q * n for q in span for i in range(n)]))
        lines_hidden.append(bool(view.network["hidden"]))
    lines_hidden = np.array(lines_hidden)
    targets = hidden[:, None] & suppression.small(values, M)
    _, high, _, line_high = suppression.ranges(values, hidden, lines, lines_hidden, targets, need_low=False)
    assert not (targets & (high < M)).any(), "a hidden count is pinned below min_cell"
    for li, line in enumerate(lines):
        for c in range(2):
            if lines_hidden[li] and suppression.small(values[line, c].sum(), M):
                assert line_high[li, c] >= M, ("a hidden figure is pinned below min_cell", li, c)
    return int(targets.sum()), int(hidden.sum() + lines_hidden.sum())


def test_a_funder_reads_the_continuum_from_all_records_and_nothing_pins_a_small_count(continuum):
    db_path, files = continuum
    sets = published(db_path, 2025)
    check_against_truth(db_path, sets)
    q4 = sets[3][1]
    # plain pandas over the contract files: the network's exits, people and positive exits of 2025 Q4
    exits = pd.read_csv(files / "outcomes.csv", parse_dates=["achieved_on"])
    agencies = pd.read_csv(files / "agencies.csv")
    victim = set(agencies.loc[agencies["is_victim_service"].astype(str).str.lower() == "true", "agency_id"])
    in_q4 = exits[(exits["achieved_on"] >= "2025-10-01") & (exits["achieved_on"] <= "2025-12-31")
                  & ~exits["agency_id"].isin(victim)]
    assert not q4.network["hidden"] and q4.network["exits"] == len(in_q4)
    assert q4.network["people"] == in_q4["client_id"].nunique()
    assert q4.network["positive"] == in_q4["outcome"].isin(POSITIVE).sum()
    assert q4.network["ci_low"] < q4.network["rate"] < q4.network["ci_high"]
    shown = lambda kind: (~q4.by[kind]["suppressed"]).sum()
    assert shown("service_type") >= 5 and shown("region") == len(set(agencies["region"])), \
        "the breakdowns read wherever counts allow: every region, most service types"
    programs = pd.read_csv(files / "programs.csv")
    assert q4.suppressed.programs <= len(programs) and q4.suppressed.programs == in_q4["program_id"].dropna().nunique()
    year = sets[4][1]
    assert (~year.programs["suppressed"]).sum() > (~q4.programs["suppressed"]).sum(), "a year reads fuller"
    audited, hidden = audit(db_path, sets)
    assert audited > 100 and hidden > 100, "the audit had small hidden counts to try"


def test_the_dense_demo_s_published_set_passes_the_same_checks(demo_db):
    with Atlas(demo_db) as db:
        last = pd.Timestamp(db.query("data_extent").iloc[0]["last_referral"]).date()
    year = last.year - 1
    sets = published(demo_db, year)
    check_against_truth(demo_db, sets)
    assert not any(view.network["hidden"] for _, view, _ in sets)
    audit(demo_db, sets)


def tempting_network() -> dict[str, str]:
    """A network built to tempt differencing in 2025: a program alone in its region (Lone), two regions that
    differ by one small agency (West is East plus A12), and a year whose fourth quarter is small (P8)."""
    from conftest import SMALL_COMMUNITY

    agencies = SMALL_COMMUNITY["agencies.csv"].rstrip("\n").splitlines()
    agencies += ["A7,Lone Shelter,nonprofit,Lone,false", "A8,East Housing,government,East,false",
                 "A9,East Homes,nonprofit,East,false", "A10,West Housing,government,West,false",
                 "A11,West Clinic,health,West,false", "A12,West Small Homes,nonprofit,West,false"]
    programs = SMALL_COMMUNITY["programs.csv"].rstrip("\n").splitlines()
    programs += ["P7,A7,Lone Beds,shelter,City Fund", "P8,A8,East Rehousing,housing,State Housing Trust",
                 "P9,A9,East Homes,housing,State Housing Trust", "P10,A10,West Rehousing,housing,State Housing Trust",
                 "P11,A11,West Clinic,medical,", "P12,A12,West Small,housing,State Housing Trust"]
    referrals = SMALL_COMMUNITY["referrals.csv"].rstrip("\n").splitlines()
    referrals += [f"Z{m:02d},C9{m:02d},A7,A8,housing,2025-{m:02d}-03 09:00,,,,,," for m in range(1, 13)]
    referrals.append("Z99,C999,A7,A8,housing,2025-12-31 09:00,,,,,,")
    rows = SMALL_COMMUNITY["outcomes.csv"].rstrip("\n").splitlines()
    per_quarter = {"P7": (3, 3), "P8": (11, 11), "P9": (11, 11), "P10": (11, 11), "P11": (11, 11), "P12": (2, 2)}
    n = 0
    for q in range(4):
        for program, (good, other) in per_quarter.items():
            if program == "P8" and q == 3:
                good, other = 2, 1  # the small fourth quarter
            for i in range(good + other):
                n += 1
                outcome = "housed_permanent" if i < good else "exited_no_outcome"
                agency = "A" + program[1:]
                rows.append(f"Y{n:05d},{agency},{program},{outcome},2025-{3 * q + 1 + i % 3:02d}-{1 + i % 27:02d}")
    return {**SMALL_COMMUNITY, "agencies.csv": "\n".join(agencies) + "\n", "programs.csv": "\n".join(programs) + "\n",
            "referrals.csv": "\n".join(referrals) + "\n", "outcomes.csv": "\n".join(rows) + "\n"}


@pytest.fixture(scope="module")
def tempting(tmp_path_factory) -> Path:
    from conftest import TEST_KEY, write_files

    from atlas.ingest import importer

    root = tmp_path_factory.mktemp("tempting_funders")
    importer.import_folder(write_files(root / "files", tempting_network()), root / "atlas.duckdb", TEST_KEY)
    return root / "atlas.duckdb"


def test_the_differencing_network_gives_nothing_away_across_a_year_and_its_quarters(tempting):
    sets = published(tempting, 2025)
    check_against_truth(tempting, sets)
    audited, _ = audit(tempting, sets)
    assert audited >= 8
    (_, q4, _), (_, year, _) = sets[3], sets[4]

    def hidden(view, program=None, region=None) -> bool:
        if region:
            return bool(view.by["region"].set_index("group").loc[region, "suppressed"])
        return bool(view.programs.set_index("program_id").loc[program, "suppressed"])

    assert hidden(q4, "P8") and hidden(year, "P8"), "the year's P8 less Q1-Q3 would be its small Q4"
    for _, view, _ in sets[:4]:
        assert hidden(view, "P7") and hidden(view, region="Lone"), "a region of one small program is that program"
        assert hidden(view, "P12")
        assert hidden(view, region="West") or hidden(view, "P10") or hidden(view, "P11"), \
            "West less its two large programs would be A12's handful"


def test_the_overview_of_a_year_is_protected_with_its_quarters(continuum):
    """The board's and funders' Overview chart for 2025 and for each of its quarters: the LP audit over the
    months' counts with every month, status and grand total each of the five periods shows."""
    db_path, _ = continuum
    statuses = list(overview.STATUSES)
    with Atlas(db_path) as db:
        views = [overview.build(db, f, min_cell=M) for f in year_periods(2025)]
        raw = db.query("referral_trend", start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    values = raw[statuses].to_numpy(float).ravel()[:, None]  # month by status, the base cells
    cells = np.arange(len(values)).reshape(12, len(statuses))
    shown = np.zeros(len(values), bool)
    lines, lines_hidden = [], []
    for p, view in enumerate(views):
        months = range(12) if p == 4 else range(3 * p, 3 * p + 3)
        trend = view.trend.reset_index(drop=True)
        assert len(trend) == len(months)
        for row, m in zip(trend.itertuples(), months):
            for j, status in enumerate(statuses):
                if not pd.isna(getattr(row, status)):
                    assert getattr(row, status) == raw.loc[m, status]
                    shown[cells[m, j]] = True
            lines.append(cells[m])
            lines_hidden.append(pd.isna(row.referred))
        figures = {f.key: f for f in view.figures}
        span = cells[list(months)]
        lines.append(span.ravel())
        lines_hidden.append(figures["referrals"].withheld)
        for j in range(len(statuses)):  # a status total is published through the acceptance rate
            lines.append(span[:, j])
            lines_hidden.append(figures["acceptance_rate"].withheld and j < 2 or j == 2)
    hidden = ~shown
    targets = hidden[:, None] & suppression.small(values, M)
    _, high, _, line_high = suppression.ranges(values, hidden, lines, np.array(lines_hidden), targets, need_low=False)
    assert not (targets & (high < M)).any()
    assert hidden.sum() > 0, "the continuum's year hides some monthly counts"


# --------------------------------------------------------------------------------------------
# Nobody waits: a quarter needs no year, and the server protects the default period ahead
# --------------------------------------------------------------------------------------------

def _forget_sets() -> None:
    from atlas.views.network import published as board
    from atlas.views.outcomes import published as funders

    funders._KEPT.clear()
    board._cache.clear()


def test_a_quarter_is_protected_alone_and_reads_as_its_year_protects_it(continuum):
    from atlas.protection import store
    from atlas.views.outcomes import published as funders

    db_path, _ = continuum
    _forget_sets()
    with Atlas(db_path) as db:
        last = pd.Timestamp(db.query("data_extent").iloc[0]["last_referral"]).date()
        q3 = funders.period_set(db, Filters(dt.date(2025, 7, 1), dt.date(2025, 9, 30), aligned="quarter"), M, last)
        assert not any(len(key) == 4 for key in funders._KEPT), "a quarter's view protects no year"
        alone = {start: funders.quarter_set(db, start, M, last) for start in (dt.date(2025, m, 1) for m in (1, 4, 7, 10))}
        funders._KEPT.clear()
        store.store_path(db_path).unlink(missing_ok=True)  # not read back from the store: protected again
        together = funders.year_sets(db, 2025, M, last)  # each quarter protected inside protect_nested, afresh
    assert q3 is alone[dt.date(2025, 7, 1)]
    for start, one in alone.items():
        other = together[(start, "quarter")]
        pd.testing.assert_frame_equal(one.cells, other.cells)
        pd.testing.assert_frame_equal(one.lines, other.lines)
        assert one.people == other.people
    lines = pd.concat([one.lines for one in alone.values()])
    assert lines["hidden"].any() and (~lines["hidden"]).any(), "the quarters hide some figures, not all"


def test_the_server_protects_the_default_period_before_anyone_asks(continuum, monkeypatch):
    from atlas.app import prefetch
    from atlas.views.network import published as board
    from atlas.views.outcomes import published as funders

    db_path, _ = continuum
    monkeypatch.setenv("ATLAS_DB", str(db_path))
    monkeypatch.setenv("ATLAS_MIN_CELL", str(M))
    _forget_sets()
    prefetch.publish_ahead(periods=1)  # the server goes on to every other period, newest first: not waited for here
    with Atlas(db_path) as db:
        extent = db.query("data_extent").iloc[0]
        first, last = (pd.Timestamp(extent[c]).date() for c in ("first_referral", "last_referral"))
        _, start, end, length = board_periods(first, last)[0]
        default = Filters(start, end, aligned=length)
        kept = dict(funders._KEPT), dict(board._cache)
        assert funders.period_set(db, default, M, last) is kept[0][(db.version, "quarter", start, M, last)]
        assert board.published(db, default, M) is kept[1][(db.version, start, end, length, M)]
    assert not any(len(key) == 4 for key in kept[0]), "the default quarter, not its year"


# --------------------------------------------------------------------------------------------
# In a real browser: the funder's view of the continuum, as served
# --------------------------------------------------------------------------------------------

def _metrics(page) -> dict[str, str]:
    labels = [t.strip() for t in page.locator('[data-testid="stMetricLabel"]').all_inner_texts()]
    values = [t.strip() for t in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]
    return dict(zip(labels, values))


def _count_or_hidden(value: str) -> bool:
    return value == "hidden" or int(value.replace(",", "")) == 0 or int(value.replace(",", "")) >= M


def test_the_served_funder_view_offers_quarters_then_years_and_shows_no_small_count(continuum, tmp_path, browser):
    from browser import served, wait_drawn

    db_path, _ = continuum
    with served(db_path, tmp_path / "streamlit.log", env={"ATLAS_LOCAL_ROLE": "funder"}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(url + "/?filter_period=All+data&filter_region=Northfield")  # URL parameters set no filter
        page.get_by_text("Median days to accept").wait_for(timeout=90_000)
        wait_drawn(page)
        main = page.locator('[data-testid="stMain"]')
        assert "2025 Q4, against 2025 Q3" in main.inner_text(), "the latest whole quarter, against the one before"
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.locator('[data-testid="stSelectbox"]').click()
        options = [t.strip() for t in page.get_by_role("option").all_inner_texts()]
        assert options[:2] == ["2025 Q4", "2025 Q3"] and options[-3:] == ["2025", "2024", "2023"]
        page.get_by_role("option", name="2025", exact=True).click()
        page.get_by_text("2025, against 2024").wait_for(timeout=90_000)
        wait_drawn(page)
        shown = _metrics(page)
        for label in ("Referrals", "Stalled referrals"):
            assert _count_or_hidden(shown[label]), (label, shown[label])
        page.get_by_role("link", name="Outcomes").click()
        page.get_by_text("Programs hidden").wait_for(timeout=90_000)
        wait_drawn(page)
        text = main.inner_text()
        assert "2025" in text and "Q4" not in text.split("Outcomes")[1][:200], "the year chosen is kept"
        shown = _metrics(page)
        with Atlas(db_path) as db:
            view = outcomes.build(db, Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31), aligned="year"), min_cell=M)
        assert shown["Exits"] == f"{view.network['exits']:,}" and shown["People"] == f"{view.network['people']:,}"
        assert all(_count_or_hidden(shown[k]) for k in ("Exits", "People"))
        assert "16 of 127 programs" not in text and "111 of 127 programs' figures are hidden" in text
