"""The last figures into the audited sets, and legible hides (issue 30).

- The board's strained ties are read from its published set: each count the list gives is the set's shown flow,
  a direction the set hides reads "hidden", and no tie is listed without a shown flow (the view, the page as a
  board member runs it, and the board pack).
- The Overview's monthly trend and split by status, for board and funders, are one audited set over a year and
  its quarters, on the continuum and on the dense demo: the LP audit of `suppression.ranges` over the months'
  counts with every figure the five periods show; its total is the board's network set's, shown in both.
- A hidden figure the shown ones fix exactly is shown (`audit.reveal_determined`): the board's continuum quarter
  hides fewer figures, the revealed set passes the engine's audit and the independent one, each revealed figure
  is pinned to its value by the figures shown beside it (the LP's least and largest values agree), and the dense
  demo's formal split that its region pair less the other part gave away now reads as a number.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import each_section
from streamlit.testing.v1 import AppTest
from test_privacy_board import M, audit, base_cells, every_figure, quarter, shown_figures, year

from atlas.db import Atlas
from atlas.packs import board
from atlas.views import network, overview, status_split, suppression, ties
from atlas.views.network import audit as engine
from atlas.views.network import published

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def continuum(tmp_path_factory) -> tuple[Path, Path]:
    """The continuum built by the real command, with its contract files beside it, and without the survey rounds
    the command writes beside it: where a closed round covers the period (the demo's cover 2024 and 2025) its ties
    stand in for the declared ones, and the board sees no strained tie at all."""
    folder = tmp_path_factory.mktemp("continuum_sets")
    db, files = folder / "atlas.duckdb", folder / "files"
    done = subprocess.run([sys.executable, "-m", "atlas", "demo", "--profile", "continuum", "--db", str(db),
                           "--csv", str(files)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for survey in folder.glob("atlas.survey.duckdb*"):
        survey.unlink()
    return db, files


def _set(db, filters, reveal: bool = True) -> published.PeriodSet:
    """The board's set of a quarter worked out now (not the kept one), with or without the reveal step."""
    if reveal:
        return published._protected(db, [(filters.start, filters.end)], None, M)[0]
    real = published.reveal_determined
    published.reveal_determined = lambda figures, hidden, min_cell, may_show=None: np.asarray(hidden, bool)
    try:
        return published._protected(db, [(filters.start, filters.end)], None, M)[0]
    finally:
        published.reveal_determined = real


# --------------------------------------------------------------------------------------------
# Strained ties: read from the board's set
# --------------------------------------------------------------------------------------------

def _check_strained(table: pd.DataFrame, flows: pd.DataFrame, names: dict) -> int:
    """Every count of the board's strained list is the set's shown flow; returns the counts checked."""
    figure = {(names[a], names[b]): (int(n), bool(s)) for a, b, n, s in
              zip(flows["from_agency_id"], flows["to_agency_id"], flows["referrals"], flows["shown"])}
    checked, carried = 0, []
    for row in table.itertuples(index=False):
        a, b = row.Partnership.split(" — ")
        total = 0
        for (x, y), text in ((a, b), row[5]), ((b, a), row[6]):
            n, shown = figure.get((x, y), (0, True))
            if shown:
                assert text == f"{n:,}", (x, y, text, n)
                total += n
                checked += n > 0
            else:
                assert text == network.HIDDEN, (x, y, text)
        assert total > 0, "a tie is listed only with a flow the set shows"
        carried.append(total)
    assert carried == sorted(carried, reverse=True)
    return checked


def test_the_boards_strained_ties_are_the_sets_flows_on_the_view_the_page_and_the_pack(continuum, monkeypatch):
    db_path, _ = continuum
    filters = quarter(2025, 4)
    with Atlas(db_path) as db:
        board_set = published.published(db, filters, M)
        names = dict(zip(*db.query("network_agencies", start=None, end=None, region=None, service_type=None,
                                   sector=None)[["agency_id", "name"]].T.to_numpy()))
        quality = ties.build(db, filters, min_cell=M)
        director = ties.build(db, filters)
        pack = board.build(db, filters, min_cell=M)
    table = quality.strained
    assert list(table.columns[-2:]) == list(ties.BOARD_WAYS) and "Referrals (both ways)" not in table
    assert len(table) >= 2 and _check_strained(table, board_set.flows, names) >= 2
    assert (table[list(ties.BOARD_WAYS)] == network.HIDDEN).any(axis=None), "a tie half hidden reads so"
    # the directors' list holds ties of fewer than M referrals both ways; none of them reaches the board's
    low = director.strained[director.strained["Referrals (both ways)"] < M]["Partnership"]
    assert len(low) and not set(low) & set(table["Partnership"])
    pd.testing.assert_frame_equal(pack.quality.strained, table)
    # the page, as a board member runs it: the partnership quality section shows the very list
    monkeypatch.setenv("ATLAS_DB", str(db_path))
    monkeypatch.setenv("ATLAS_LOCAL_ROLE", "board")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
    at.session_state["filter_reporting_period"] = "2025 Q4"
    at.switch_page("pages/network.py")
    at.run()
    assert not at.exception, at.exception
    for _ in each_section(at, "network_section", [network.QUALITY]):
        shown = [df.value for df in at.dataframe if ties.BOARD_WAYS[0] in df.value.columns]
        assert len(shown) == 1
        pd.testing.assert_frame_equal(shown[0].reset_index(drop=True), table, check_dtype=False)


# --------------------------------------------------------------------------------------------
# The Overview's split by status and monthly trend: one audited set a year
# --------------------------------------------------------------------------------------------

def _audit_overview(db, y: int, pages: bool) -> int:
    """The LP audit over the months' counts of year `y` with every figure the five Overviews show (each month's
    counts and total, each period's referrals, and its accepted, declined and pending totals, taken as published
    whenever its set shows them); returns the counts hidden. With `pages`, the counts are read from the
    Overview views themselves (which also work out the funders' exit-rate sets), else from the audited sets the
    views read (`status_split`)."""
    statuses = list(overview.STATUSES)
    periods = [quarter(y, q) for q in (1, 2, 3, 4)] + [year(y)]
    raw = db.query("referral_trend", start=dt.date(y, 1, 1), end=dt.date(y, 12, 31))
    assert len(raw) == 12
    values = raw[statuses].to_numpy(float).ravel()[:, None]
    cells = np.arange(len(values)).reshape(12, len(statuses))
    shown = np.zeros(len(values), bool)
    lines, lines_hidden = [], []
    sets = status_split.split_sets(db, year(y), M)
    for p, filters in enumerate(periods):
        months = range(12) if p == 4 else range(3 * p, 3 * p + 3)
        total = int(db.query("network_summary", start=filters.start, end=filters.end)["referrals"].iloc[0])
        assert total == values[cells[list(months)].ravel()].sum() and sets[p].total_shown
        trend = sets[p].trend.reset_index(drop=True)
        if pages:
            view = overview.build(db, filters, min_cell=M)
            figures = {f.key: f for f in view.figures}
            # the period's referrals: the very figure the board's network set publishes as its total
            assert figures["referrals"].value == total
            for status in statuses[:2]:
                assert sets[p].status_shown[status] or figures["acceptance_rate"].withheld
            pd.testing.assert_frame_equal(view.trend[statuses + ["referred"]].reset_index(drop=True),
                                          trend[statuses + ["referred"]])
        for row, m in zip(trend.itertuples(), months):
            for j, status in enumerate(statuses):
                if not pd.isna(getattr(row, status)):
                    assert getattr(row, status) == raw.loc[m, status]
                    shown[cells[m, j]] = True
            lines.append(cells[m])
            lines_hidden.append(pd.isna(row.referred))
        lines.append(cells[list(months)].ravel())
        lines_hidden.append(False)
        for j, status in enumerate(statuses):
            lines.append(cells[list(months), j])
            lines_hidden.append(not sets[p].status_shown[status])
    hidden = ~shown
    targets = hidden[:, None] & suppression.small(values, M)
    _, high, _, _ = suppression.ranges(values, hidden, lines, np.array(lines_hidden), targets, need_low=False)
    assert not (targets & (high < M)).any()
    return int(hidden.sum())


def test_the_overview_split_of_the_continuum_is_audited_with_its_quarters(continuum):
    db_path, _ = continuum
    with Atlas(db_path) as db:
        hidden = [_audit_overview(db, 2025, pages=True), _audit_overview(db, 2024, pages=False)]
        # the total the board's network set publishes for a quarter is the Overview's
        assert published.published(db, quarter(2025, 4), M).total == int(
            db.query("network_summary", start=dt.date(2025, 10, 1), end=dt.date(2025, 12, 31))["referrals"].iloc[0])
    assert sum(hidden) > 0, "the continuum's years hide some monthly counts"


def test_the_overview_split_of_the_dense_demo_is_audited_with_its_quarters(demo_db):
    with Atlas(demo_db) as db:
        for y in (2024, 2025):
            _audit_overview(db, y, pages=False)


def test_a_quarters_overview_is_the_quarter_its_year_is_audited_with(continuum):
    db_path, _ = continuum
    with Atlas(db_path) as db:
        sets = status_split.split_sets(db, year(2025), M)
        for q in range(4):
            alone = status_split.published_split(db, quarter(2025, q + 1), M)
            pd.testing.assert_frame_equal(alone.trend, sets[q].trend)
            assert alone.status_shown == sets[q].status_shown
            months = pd.to_datetime(sets[4].trend["month"]).dt.month.between(3 * q + 1, 3 * q + 3).to_numpy()
            pd.testing.assert_frame_equal(sets[4].trend[months].reset_index(drop=True),
                                          alone.trend.reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# Legible hides: what the shown figures fix is shown
# --------------------------------------------------------------------------------------------

def _pinned(cells: pd.DataFrame, others: list[int], figures: dict, shown: dict, key) -> tuple[float, float]:
    """The least and largest value of figure `key` when it alone is hidden and everything else in `shown` is
    published (suppression.ranges over the cells, counts never negative)."""
    values = np.concatenate([cells["n"].to_numpy(float), np.asarray(others, float)])
    published_lines = [figures[k] for k in shown if k != key]
    lines = published_lines + [figures[key]]
    hidden_lines = np.r_[np.zeros(len(published_lines), bool), True]
    _, _, low, high = suppression.ranges(values, np.ones(len(values), bool), lines, hidden_lines,
                                         targets=np.zeros((len(values), 1), bool))
    return low[-1, 0], high[-1, 0]


def test_the_continuum_quarter_shows_what_its_shown_figures_fix_and_still_passes_both_audits(continuum):
    db_path, files = continuum
    filters = quarter(2025, 4)
    with Atlas(db_path) as db:
        revealed, plain = _set(db, filters), _set(db, filters, reveal=False)
        assert revealed.hidden_count() < plain.hidden_count()  # 1,240 to 1,234
        # the engine's own audit of the revealed pattern
        cells, agencies, others = published._cells(db, [(filters.start, filters.end)], None)
        builder = published._Builder(cells, others)
        builder.period(0, [0])
        pattern = published._pattern(builder, M)
        assert not engine.exposed(builder.figures(), pattern, M).any()
        # the independent audit, over what the pages show
        cells, others = base_cells(files, 2025)
        figures = every_figure(cells, others, 3, [3])
        shown = shown_figures(db, filters, 3)
    assert not audit(cells, others, figures, shown)
    # each figure shown only now is fixed by the others: with it hidden, its least and largest values are its own
    plain_shown = set(plain.shown_flows()[["from_agency_id", "to_agency_id"]].itertuples(index=False, name=None))
    now = [k for k in shown if k[1] == "flow" and (k[2], k[3]) not in plain_shown]
    now += [k for k in shown if k[1] in ("sector", "sector_volume", "region", "region_volume", "formal", "without")
            and _hidden_in(plain, k)]
    assert now
    values = np.concatenate([cells["n"].to_numpy(float), np.asarray(others, float)])
    for key in now:
        value = values[figures[key]].sum()
        assert value >= M
        assert _pinned(cells, others, figures, shown, key) == (value, value), key


def _hidden_in(period_set: published.PeriodSet, key: tuple) -> bool:
    """Whether the set hides the figure of `key` ((period, grain, a, b) as every_figure names it)."""
    _, grain, a, b = key
    if grain.endswith("_volume"):
        v = period_set.volumes[grain.split("_")[0]].set_index("group")
        return not bool(v.loc[a, f"{b}_shown"])
    by = "region" if grain in ("formal", "without") else grain
    p = period_set.pairs[by].set_index(["from_group", "to_group"])
    column = {"formal": "formal_shown", "without": "without_shown"}.get(grain, "shown")
    return not bool(p.loc[(a, b), column])


def test_a_formal_split_its_region_pair_gives_away_reads_as_a_number():
    # a region pair of 135 referrals shown, its formal part (one flow of 82) shown, the part without an agreement
    # (flows of 5 and 48) hidden: 135 - 82 gives the 53 away, so hiding it only made the page harder to read
    figures = engine.Figures([5, 48, 82], [[0], [1], [2], [0, 1, 2], [2], [0, 1]],
                             ["flow", "flow", "flow", "region", "formal", "formal"])
    hidden = engine.protect(figures, M, hidden=np.array([True, True, False, False, False, True]))
    assert hidden.tolist() == [True, True, False, False, False, True]
    shown = engine.reveal_determined(figures, hidden, M)
    assert shown.tolist() == [True, True, False, False, False, False]  # the 53 reads as a number, the 5 stays hidden
    assert not engine.exposed(figures, shown, M).any()


def test_the_dense_quarter_shows_the_region_splits_its_pairs_fix(demo_db):
    with Atlas(demo_db) as db:
        filters = quarter(2025, 4)
        revealed, plain = _set(db, filters), _set(db, filters, reveal=False)
        assert plain.hidden_count() - revealed.hidden_count() >= 5
        pairs = revealed.pairs["region"].set_index(["from_group", "to_group"])
        before = plain.pairs["region"].set_index(["from_group", "to_group"])
        opened = pairs[(~before["formal_shown"] & pairs["formal_shown"]) | (~before["without_shown"]
                                                                            & pairs["without_shown"])]
        for (a, b), row in opened.iterrows():
            # before: the pair and one part shown, the other hidden though the difference gave it away
            assert before.loc[(a, b), "shown"] and (before.loc[(a, b), "formal_shown"]
                                                    != before.loc[(a, b), "without_shown"])
            assert row["formal_shown"] and row["without_shown"] and row["referrals"] - row["formal_referrals"] >= M \
                and row["formal_referrals"] >= M
