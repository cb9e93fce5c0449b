"""Small-cell suppression (atlas/views/suppression.py), checked like an attacker would.

Every protected table here is built to tempt: a total minus the one shown cell equals the hidden
one, two small cells hide each other, a row and a column together pin a cell that each alone
protects. `feasible` is an exact whole-number solver written for these tests (depth-first search
with bounds, independent of the linear programming the module uses): for each hidden cell it
finds every value consistent with what is published. No hidden count of 1..m-1 may be pinned to a
value below m, nor even shown to be below m.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from atlas.views import suppression as sup

# --------------------------------------------------------------------------------------------
# An independent exact solver
# --------------------------------------------------------------------------------------------

def feasible(values, hidden, lines, lines_hidden=None, cap=None) -> dict[tuple[int, int], tuple[int, int]]:
    """For every hidden (cell, column): the smallest and largest whole value it can take, given the
    shown cells, the shown totals and counts >= 0. Exhaustive search (small tables only)."""
    v = np.asarray(values, dtype=int)
    v = v[:, None] if v.ndim == 1 else v
    hidden = np.asarray(hidden, bool)
    lines = [np.asarray(line) for line in lines]
    lines_hidden = np.zeros(len(lines), bool) if lines_hidden is None else np.asarray(lines_hidden)
    cells = list(np.flatnonzero(hidden))
    out = {}
    for c in range(v.shape[1]):
        published = [(set(line.tolist()), int(v[line, c].sum())) for line, off in zip(lines, lines_hidden) if not off]
        limit = cap if cap is not None else int(v[:, c].sum()) + 20
        known = {i: int(v[i, c]) for i in range(len(v)) if not hidden[i]}
        seen = {i: set() for i in cells}

        containing = {i: [(members, total) for members, total in published if i in members] for i in cells}

        def room(i, assign):
            """The values cell i can still take: forced by a total whose other cells are all set, else
            0 up to what its totals have left."""
            upper, forced = limit, None
            for members, total in containing[i]:
                rest = sum(assign[j] if j in assign else known[j] for j in members if j != i and (j in assign or j in known))
                if rest > total:
                    return range(0)
                if all(j in assign or j in known for j in members if j != i):
                    if forced is not None and forced != total - rest:
                        return range(0)
                    forced = total - rest
                upper = min(upper, total - rest)
            if forced is not None:
                return range(forced, forced + 1) if 0 <= forced <= upper else range(0)
            return range(upper + 1)

        def search(k, assign):
            if k == len(cells):
                for i in cells:
                    seen[i].add(assign[i])
                return
            for value in room(cells[k], assign):
                assign[cells[k]] = value
                search(k + 1, assign)
                del assign[cells[k]]

        search(0, {})
        for i in cells:
            out[(i, c)] = (min(seen[i]), max(seen[i]))
    return out


def assert_protected(values, pattern: sup.Pattern, lines, m: int, cap=None):
    """No hidden small count can be shown to be small (its largest feasible value reaches m)."""
    v = np.asarray(values)
    v = v[:, None] if v.ndim == 1 else v
    ranges = feasible(v, pattern.hidden, lines, pattern.lines_hidden, cap=cap)
    for (i, c), (low, high) in ranges.items():
        assert low <= v[i, c] <= high, "the solver must find the truth"
        if 1 <= v[i, c] < m:
            assert high >= m, f"cell {i} column {c} = {v[i, c]} is pinned to {low}..{high}"
    # and every shown count is safe itself
    shown = v[~pattern.hidden]
    assert not sup.small(shown, m).any()
    for line, off in zip(lines, pattern.lines_hidden):
        if not off:
            assert not sup.small(v[np.asarray(line)].sum(axis=0), m).any()


# --------------------------------------------------------------------------------------------
# Rates and the primary rule
# --------------------------------------------------------------------------------------------

def test_small_is_one_to_min_cell_minus_one():
    assert sup.small([0, 1, 10, 11, 25], 11).tolist() == [False, True, True, False, False]


def test_wilson_matches_the_textbook_formula():
    low, high = sup.wilson([11, 0, 5], [22, 11, 10])
    assert low[0] == pytest.approx(0.3072, abs=1e-4) and high[0] == pytest.approx(0.6928, abs=1e-4)
    assert low[1] == pytest.approx(0.0, abs=1e-12) and high[1] == pytest.approx(0.2588, abs=1e-4)
    assert np.isnan(sup.wilson([0], [0])[0][0])


def test_rate_rows_hide_small_exits_positives_and_complements():
    exits = [11, 10, 22, 21, 30, 12]
    positive = [11, 5, 11, 11, 0, 1]
    # 11/11 shown (0 others), 10 exits hidden, 11/11 shown, 10 others hidden, 0 positives shown, 1 positive hidden
    assert sup.rate_row_hidden(exits, positive, 11).tolist() == [False, True, False, True, False, True]
    shown = sup.publish_rates(pd.DataFrame({"exits": exits, "positive": positive}), 11)
    assert shown["suppressed"].tolist() == [False, True, False, True, False, True]
    assert shown.loc[shown["suppressed"], ["exits", "positive"]].isna().all().all()
    assert shown.loc[shown["suppressed"], ["rate", "ci_low", "ci_high"]].isna().all().all()
    assert shown.loc[0, "rate"] == 1.0 and shown.loc[4, "rate"] == 0.0


# --------------------------------------------------------------------------------------------
# Complementary suppression, tables built to tempt it
# --------------------------------------------------------------------------------------------

def test_a_total_minus_the_shown_cells_is_not_the_hidden_cell():
    values = [3, 40, 50]  # the total 93 is published: 93 - 40 - 50 would give the 3
    lines = [[0, 1, 2]]
    pattern = sup.protect(values, lines, 11)
    assert pattern.primary.tolist() == [True, False, False]
    assert pattern.hidden.tolist() == [True, True, False]  # the next smallest goes with it
    assert_protected(values, pattern, lines, 11)


def test_two_small_cells_do_not_protect_each_other():
    values = [4, 6, 30, 80]  # hiding 4 and 6 leaves their sum, 10: both would be known to be small
    lines = [[0, 1, 2, 3]]
    pattern = sup.protect(values, lines, 11)
    assert pattern.hidden.tolist() == [True, True, True, False]
    assert_protected(values, pattern, lines, 11)


def test_a_small_total_is_not_published():
    values = [2, 3, 0]
    lines = [[0, 1, 2]]
    pattern = sup.protect(values, lines, 11)
    assert pattern.lines_hidden.tolist() == [True]
    assert pattern.hidden.tolist() == [True, True, False]
    assert_protected(values, pattern, lines, 11)


def test_rows_and_columns_with_margins():
    table = np.array([[3, 20, 30],
                      [25, 4, 40],
                      [30, 35, 50]])
    lines = sup.table_lines(table.shape)
    pattern = sup.protect(table.ravel(), lines, 11)
    assert pattern.hidden.reshape(3, 3)[0, 0] and pattern.hidden.reshape(3, 3)[1, 1]
    assert_protected(table.ravel(), pattern, lines, 11, cap=80)


def test_a_row_and_a_column_together_pin_what_each_alone_protects():
    # Each published total has two hidden cells adding up to 14 or more, yet together they pin the 2:
    # a + b = 22, a + c = 14, b + c = 32 gives a = (22 + 14 - 32) / 2 = 2. The audit catches it.
    values = np.array([2, 20, 12, 100])
    lines = [[0, 1], [0, 2], [1, 2]]
    naive = sup.Pattern(hidden=np.array([True, True, True, False]), primary=np.array([True, False, False, False]),
                        lines_hidden=np.zeros(3, bool))
    found = sup.exposures(values, naive, lines, 11)
    assert [(e.index, e.value, e.high) for e in found] == [(0, 2, 2)]
    assert feasible(values, naive.hidden, lines)[(0, 0)] == (2, 2)  # the solver agrees: pinned
    pattern = sup.protect(values, lines, 11)
    assert_protected(values, pattern, lines, 11)


def test_rate_cells_hide_positive_and_other_together():
    # one row per group: (positive, other); a total row of both columns is published
    cells = np.array([[3, 30], [40, 50], [25, 2], [60, 70]])
    lines = [np.arange(4)]
    pattern = sup.protect(cells, lines, 11)
    assert pattern.primary.tolist() == [True, False, True, False]
    assert_protected(cells, pattern, lines, 11)
    concealed = cells[pattern.hidden].sum(axis=0)
    assert (concealed == 0).all() or (concealed >= 11).all()


def test_lp_ranges_agree_with_the_exact_solver():
    rng = np.random.default_rng(3)
    for _ in range(15):
        table = rng.integers(0, 14, size=(3, 3))
        lines = sup.table_lines(table.shape)
        pattern = sup.protect(table.ravel(), lines, 6)
        low, high, _, _ = sup.ranges(table.ravel(), pattern.hidden, lines, pattern.lines_hidden)
        exact = feasible(table.ravel(), pattern.hidden, lines, pattern.lines_hidden, cap=int(table.sum()) + 6)
        for (i, _), (lo, hi) in exact.items():
            # the integer range lies within the LP range; in these tables they coincide
            assert low[i, 0] <= lo and hi <= high[i, 0]
            assert (lo, hi) == (low[i, 0], high[i, 0])


def test_random_tables_survive_the_exact_solver():
    checked = 0
    for seed in range(120):
        rng = np.random.default_rng(seed)
        m = int(rng.integers(4, 7))
        shape = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
        table = rng.choice([0, 1, 2, 3, 5, 8, 12, 15], size=shape)
        lines = sup.table_lines(shape)
        pattern = sup.protect(table.ravel(), lines, m)
        if pattern.hidden.sum() > 5 or pattern.lines_hidden.any():
            continue  # too many hidden cells for the exhaustive solver
        assert_protected(table.ravel(), pattern, lines, m, cap=int(table.sum()) + m)
        checked += 1
    assert checked >= 25


def test_nothing_is_hidden_without_a_small_count():
    values = np.array([[11, 30], [0, 12], [50, 50]])
    pattern = sup.protect(values, [np.arange(3)], 11)
    assert not pattern.hidden.any() and not pattern.lines_hidden.any()


def test_director_view_threshold_zero_hides_nothing():
    assert not sup.protect([1, 2, 3], [[0, 1, 2]], 0).hidden.any()
    assert not sup.rate_row_hidden([1, 5], [1, 2], 0).any()


def test_exhaustive_check_of_every_three_cell_row():
    # every row of three cells from a small alphabet, with its total published
    m = 4
    for values in itertools.product([0, 1, 2, 3, 4, 6], repeat=3):
        pattern = sup.protect(list(values), [[0, 1, 2]], m)
        assert_protected(list(values), pattern, [[0, 1, 2]], m, cap=sum(values) + m)


# --------------------------------------------------------------------------------------------
# Many small tables at once (the outcome mix): the same pattern as `protect`, table by table
# --------------------------------------------------------------------------------------------

def protect_one_by_one(values, tables, lines, m):
    """The reference: `protect` on each table alone (its totals in the order of their labels), as the
    outcome mix did before `protect_many`."""
    values, tables, lines = np.asarray(values, float), np.asarray(tables), np.asarray(lines)
    hidden = np.zeros(len(values), bool)
    for t in pd.unique(tables):
        index = np.flatnonzero(tables == t)
        v = values[index]
        if not sup.small(v, m).any():
            continue
        parts = [np.flatnonzero(lines[index] == label) for label in np.unique(lines[index])]
        hidden[index] = sup.protect(v, parts, m).hidden
    return hidden


@pytest.mark.parametrize("seed", range(12))
def test_many_tables_at_once_hide_exactly_what_protect_hides(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.choice([3, 5, 11]))
    tables = 400
    sizes = rng.integers(1, 10, tables)
    table = np.repeat(np.arange(tables), sizes)
    rng.shuffle(table)  # a table's cells need not be next to one another
    line = rng.integers(0, 2 if seed % 3 else 3, len(table))
    # mostly small counts and zeros, some large: tempting every rule (small totals, complements, ties)
    values = np.where(rng.random(len(table)) < 0.5, rng.integers(0, m, len(table)),
                      rng.integers(m, 4 * m, len(table)))
    values[rng.random(len(table)) < 0.1] = m  # ties at the threshold
    expected = protect_one_by_one(values, table, line, m)
    got = sup.protect_many(values, table.astype(str), line, m)
    assert got.tolist() == expected.tolist()


def test_many_tables_edge_cases():
    m = 11
    # no small count anywhere; one lone small cell; a small total (not published); all zeros; one cell
    values = [20, 30, 0, 5, 40, 3, 4, 50, 0, 0, 7]
    tables = ["a", "a", "a", "b", "b", "c", "c", "c", "d", "d", "e"]
    lines = [0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1]
    assert sup.protect_many(values, tables, lines, m).tolist() == protect_one_by_one(values, tables, lines, m).tolist()
    assert sup.protect_many([], [], [], m).tolist() == []
    assert not sup.protect_many([1, 2, 3], ["a", "a", "a"], [0, 0, 0], 0).any()  # director view


def test_hidden_wording_says_hidden_and_counts_what_was_hidden():
    assert sup.figure_text(0, hidden=True) == "hidden"
    assert sup.figure_text(0, hidden=False) == "0"
    assert sup.figure_text(1234, hidden=False, write="{:,}".format) == "1,234"
    assert (sup.small_numbers_note(12, 116, "programs", 11, "exits")
            == "12 of 116 programs' figures are hidden: fewer than 11 exits, or needed to protect one that was.")
    assert sup.small_numbers_note(1, 5, "regions", 11, "referrals").startswith(
        "1 of 5 regions' figures is hidden: fewer than 11 referrals")
    assert sup.small_numbers_note(0, 5, "regions", 11, "referrals") == (
        "All 5 regions' figures are shown: none rests on 1 to 10 referrals.")
    assert sup.small_numbers_note(0, 0, "regions", 11, "referrals") == ""


def _nested_audit(values, lines, nested, m=11):
    """Every hidden small count's largest value given everything published for the year and its quarters,
    worked out by `ranges` itself (not by the exposures the protection used)."""
    q, n, k = values.shape
    every, lines_hidden = nested.lines(lines)
    base = values.reshape(q * n, k)
    hidden = nested.base_hidden
    low, high, line_low, line_high = sup.ranges(base, hidden, every, lines_hidden)
    pinned = [("cell", i, c) for i, c in zip(*np.nonzero(hidden[:, None] & sup.small(base, m))) if high[i, c] < m]
    for li, line in enumerate(every):
        for c in range(k):
            if lines_hidden[li] and sup.small(base[line, c].sum(), m) and line_high[li, c] < m:
                pinned.append(("line", li, c))
    return pinned


def test_a_year_whose_fourth_quarter_is_small_hides_the_year_figures_that_would_give_it_away():
    # three programs; region A holds p0 and p1, region B p2; the network total over all three
    positive = np.array([[20, 15, 30], [20, 15, 30], [20, 15, 30], [3, 15, 30]], float)
    other = np.array([[20, 15, 30], [20, 15, 30], [20, 15, 30], [0, 15, 30]], float)
    values = np.stack([positive, other], axis=2)
    lines = [np.array([0, 1]), np.array([2]), np.array([0, 1, 2])]
    nested = sup.protect_nested(values, lines, 11)
    assert [p.hidden.tolist() for p in nested.quarters][:3] == [[False] * 3] * 3, "Q1-Q3 stand on their own"
    assert nested.quarters[3].hidden.tolist() == [True, True, False], "p0's 3 and a complement in region A"
    assert nested.year_cells_hidden.tolist() == [True, True, False], "p0's year less Q1-Q3 would be its Q4"
    assert not _nested_audit(values, lines, nested)


def test_nested_protection_passes_the_audit_on_random_years():
    rng = np.random.default_rng(30)
    for _ in range(40):
        cells = int(rng.integers(2, 7))
        values = rng.integers(0, 25, size=(4, cells, 2)).astype(float)
        values[rng.random((4, cells)) < 0.35] = rng.integers(0, 4, size=2)
        groups = rng.integers(0, 3, size=cells)
        lines = [np.flatnonzero(groups == g) for g in range(3)] + [np.arange(cells)]
        nested = sup.protect_nested(values, lines, 11)
        assert not _nested_audit(values, lines, nested)
        for q in range(4):  # each quarter's own pattern is what protect gives it alone: a later quarter changes none
            assert (nested.quarters[q].hidden == sup.protect(values[q], lines, 11).hidden).all()


# --------------------------------------------------------------------------------------------
# The audits' solver: one HiGHS model asked many questions (atlas.views.lp)
# --------------------------------------------------------------------------------------------

def test_the_warm_started_programme_answers_as_scipy_answers_each_question_afresh():
    from scipy.optimize import linprog

    from atlas.views.lp import Programme

    rng = np.random.default_rng(7)
    for _ in range(25):
        a = (rng.random((int(rng.integers(1, 25)), int(rng.integers(2, 40)))) < 0.25).astype(float)
        b = a @ rng.integers(0, 12, a.shape[1])
        programme = Programme(a, b)
        for _ in range(8):  # each question from the last one's basis
            objective = (rng.random(a.shape[1]) < 0.3).astype(float)
            largest, duals = programme.maximise(objective)
            fresh = linprog(-objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            if fresh.status == 3:
                assert largest == np.inf and not duals.any()
                continue
            assert abs(largest + fresh.fun) < 1e-6
            x = programme.solution()
            assert x.min() > -1e-9 and np.allclose(a @ x, b) and abs(objective @ x - largest) < 1e-6
            # the duals bound the objective: b @ y is the largest value (strong duality of the programme)
            assert abs(b @ duals - largest) < 1e-6


def test_a_programme_the_solver_cannot_answer_is_a_clear_error():
    from atlas.views.lp import Programme

    impossible = Programme(np.array([[1.0, 1.0]]), np.array([-1.0]))  # x >= 0 cannot add up to -1
    with pytest.raises(RuntimeError, match="suppression audit failed: the solver ended 'Infeasible' on a programme "
                                           "of 1 equalities and 2 variables"):
        impossible.maximise([1.0, 0.0])
