"""Small-cell suppression: which counts of people may leave a director view, and the proof that what
is shown cannot be used to work out what is hidden.

Every figure of the Funders page and of the funder pack passes through here. The threshold
`min_cell` (m, default 11) comes from the deployment (`atlas.config.min_cell`). The rules:

1. **Primary.** A count of 1 to m-1 people is never shown, nor is a rate, share or interval built
   on it. A count of 0 may be shown. A rate row (exits, of which positive) is hidden whole when the
   exits, the positive exits or the other exits (exits - positive, the complement) number 1 to m-1.
2. **Complementary.** Where a table publishes totals (of a row, a column, a group or everything), a
   hidden cell must not be recoverable by subtraction. In every published total the hidden cells
   must add up to 0 or to at least m, in every count column; otherwise the smallest other non-zero
   cell of that total is hidden too, and so on. A total that is itself 1 to m-1 is not published.
3. **Audit.** The pattern is then checked by linear programming (`ranges`): for every hidden count
   of 1 to m-1, the smallest and largest values consistent with everything published (every shown
   cell, every shown total, counts never negative) are computed. The largest must reach m, so a
   reader can neither pin the count nor even tell that it is small. Where a count fails, another
   cell that shares a total with it is hidden and the audit runs again. Two totals that overlap (a
   row and a column, say) can pin a cell that each total alone protects; the audit catches that.

`protect` applies all three to a table given as cells and the totals published over them; `protect_many`
gives the same pattern for many small tables at once whose totals do not overlap (the outcome mix: each
program's positive and other outcomes). The Outcomes page adds one principle of its own (see
`atlas.views.outcomes`): a figure that adds up programs only ever adds up programs that are themselves
shown, so no choice of filters leaves a hidden program as the difference between two totals. Everything
here is pure: numpy arrays and DataFrames in, the same out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

Z = 1.959964  # 95 % two-sided normal quantile, as in outcomes_by_program
_EPS = 1e-6


def small(values, min_cell: int) -> np.ndarray:
    """True where a count is 1 to min_cell - 1: too few people to show (0 may be shown)."""
    v = np.asarray(values, dtype=float)
    return (v >= 1) & (v < min_cell)


def wilson(positive, exits, z: float = Z) -> tuple[np.ndarray, np.ndarray]:
    """The 95 % Wilson score interval of positive / exits (NaN where exits is 0 or missing)."""
    k = np.asarray(positive, dtype=float)
    n = np.asarray(exits, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2 = z * z
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    bad = ~(n > 0)
    low, high = centre - half, centre + half
    low[bad] = np.nan
    high[bad] = np.nan
    return low, high


def rate_row_hidden(exits, positive, min_cell: int) -> np.ndarray:
    """Primary suppression of rate rows: exits below min_cell, or positive or other exits 1..m-1."""
    e = np.asarray(exits, dtype=float)
    k = np.asarray(positive, dtype=float)
    return ((e >= 1) & (e < min_cell)) | small(k, min_cell) | small(e - k, min_cell)


def with_rates(frame: pd.DataFrame, exits: str = "exits", positive: str = "positive") -> pd.DataFrame:
    """A copy with `rate` = positive / exits and its Wilson interval `ci_low`, `ci_high` (NaN when no exits)."""
    out = frame.copy()
    e = pd.to_numeric(out[exits], errors="coerce").astype(float).to_numpy()
    k = pd.to_numeric(out[positive], errors="coerce").astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(e > 0, k / e, np.nan)
    out["ci_low"], out["ci_high"] = wilson(k, e)
    return out


def publish_rates(frame: pd.DataFrame, min_cell: int, exits: str = "exits", positive: str = "positive",
                  hidden=None) -> pd.DataFrame:
    """Rate rows ready to show: `suppressed` rows (primary rule, or `hidden` when given) keep their keys
    and lose their counts, rate and interval; the others gain rate and interval."""
    out = with_rates(frame, exits, positive)
    mask = rate_row_hidden(out[exits], out[positive], min_cell) if hidden is None else np.asarray(hidden, bool)
    out["suppressed"] = mask
    for column in (exits, positive):
        out[column] = pd.array(np.where(mask, pd.NA, out[column]), dtype="Int64")
    for column in ("rate", "ci_low", "ci_high"):
        out.loc[mask, column] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# Words: how a hidden figure and the small-numbers note read, on every page and pack a board member
# or funder sees (one wording, so the Overview, Outcomes, the network map and the packs agree)
# --------------------------------------------------------------------------------------------

HIDDEN = "hidden"  # what a hidden figure reads: never 0, never a bare dash


def figure_text(value, hidden: bool, write=str) -> str:
    """A figure as shown: "hidden" when it is hidden, else `write(value)`."""
    return HIDDEN if hidden else write(value)


def small_numbers_note(hidden: int, of: int, things: str, min_cell: int, unit: str) -> str:
    """The small-numbers note of a view: exactly what it hides, e.g. "12 of 116 programs' figures are
    hidden: fewer than 11 exits, or needed to protect one that was." `things` is the plural of what
    the view's rows are (programs, regions), `unit` what a cell counts (exits, referrals). Empty when
    the view has no rows."""
    if not of:
        return ""
    if not hidden:
        return f"All {of:,} {things}' figures are shown: none rests on 1 to {min_cell - 1} {unit}."
    verb = "is" if hidden == 1 else "are"
    return (f"{hidden:,} of {of:,} {things}' figures {verb} hidden: fewer than {min_cell} {unit}, "
            "or needed to protect one that was.")


# --------------------------------------------------------------------------------------------
# Tables with totals: primary, complementary, audit
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pattern:
    """Which cells and which totals of a table may not be shown."""

    hidden: np.ndarray  # (cells,) bool: the cell's counts are not shown
    primary: np.ndarray  # (cells,) bool: hidden for its own small counts (the rest are complements)
    lines_hidden: np.ndarray  # (lines,) bool: the total is not shown (it is itself small)

    @property
    def complementary(self) -> np.ndarray:
        return self.hidden & ~self.primary


@dataclass(frozen=True)
class Exposure:
    """A hidden small count that what is published pins to a range below min_cell."""

    kind: str  # "cell" or "line"
    index: int
    column: int
    value: float
    low: float
    high: float
    rests_on: tuple = ()  # the published totals (indices of `lines`) its bound rests on, when a programme said


def _as_table(values) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v[:, None] if v.ndim == 1 else v


def _line_sets(lines: Sequence, n: int) -> list[np.ndarray]:
    return [np.unique(np.asarray(line, dtype=int)) for line in lines if len(line)]


def ranges(values, hidden, lines: Sequence, lines_hidden=None, targets=None,
           need_low: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What a reader can work out: for every hidden cell (and every hidden total), the smallest and
    largest values consistent with the shown cells and the shown totals, counts never negative.

    `values` is (cells, columns) of counts (or one column); `lines` lists, for each published total,
    the cells it adds up. Returns (cell_low, cell_high, line_low, line_high); shown cells and shown
    totals get their own value. The bounds are those of the linear relaxation, rounded inwards to
    whole numbers (a whole-number solution lies within them). `targets`, a (cells, columns) mask,
    limits the work to those hidden cells (others get NaN); `need_low=False` skips the lower bounds
    (NaN), which the audit does not need."""
    v = _as_table(values)
    n, k = v.shape
    hidden = np.asarray(hidden, dtype=bool)
    sets = _line_sets(lines, n)
    lines_hidden = np.zeros(len(sets), bool) if lines_hidden is None else np.asarray(lines_hidden, bool)
    cell_low, cell_high = v.copy(), v.copy()
    line_low = np.array([[v[s, c].sum() for c in range(k)] for s in sets]).reshape(len(sets), k)
    line_high = line_low.copy()
    h_index = np.flatnonzero(hidden)
    position = {cell: i for i, cell in enumerate(h_index)}
    published = [s for s, off in zip(sets, lines_hidden) if not off]
    rows = [s for s in published if hidden[s].any()]
    for c in range(k):
        # constraints over the hidden cells: sum of a total's hidden cells = total - its shown cells
        a = np.zeros((len(rows), len(h_index)))
        b = np.zeros(len(rows))
        for r, s in enumerate(rows):
            in_h = s[hidden[s]]
            a[r, [position[i] for i in in_h]] = 1
            b[r] = v[in_h, c].sum()
        want = None if targets is None else np.asarray(targets, bool).reshape(n, k)[h_index, c]
        lo, hi = _bounds(a, b, len(h_index), want, need_low)
        cell_low[h_index, c], cell_high[h_index, c] = lo, hi
        for li, s in enumerate(sets):
            if lines_hidden[li]:
                in_h = s[hidden[s]]
                shown = v[s[~hidden[s]], c].sum()
                objective = np.zeros(len(h_index))
                objective[[position[i] for i in in_h]] = 1
                lo_l, hi_l = _optimise(a, b, objective, need_low)
                line_low[li, c], line_high[li, c] = shown + lo_l, shown + hi_l
    return cell_low, cell_high, line_low, line_high


def _bounds(a: np.ndarray, b: np.ndarray, n: int, targets=None, need_low: bool = True) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """Smallest and largest value of each variable x_i >= 0 subject to a @ x = b."""
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    want = np.ones(n, bool) if targets is None else np.asarray(targets, bool)
    if n == 0:
        return lo, hi
    in_rows = a.sum(axis=0)
    if (in_rows <= 1).all():
        # every hidden cell is in at most one shown total: the bounds are exact and need no solver
        for i in np.flatnonzero(want):
            r = np.flatnonzero(a[:, i])
            if not len(r):
                lo[i], hi[i] = 0.0, np.inf
                continue
            others = a[r[0]].sum() - 1
            hi[i] = b[r[0]]
            lo[i] = b[r[0]] if others == 0 else 0.0
        return lo, hi
    for i in np.flatnonzero(want):
        objective = np.zeros(n)
        objective[i] = 1
        lo[i], hi[i] = _optimise(a, b, objective, need_low)
    return lo, hi


def _optimise(a: np.ndarray, b: np.ndarray, objective: np.ndarray, need_low: bool = True) -> tuple[float, float]:
    """min and max of objective @ x over x >= 0, a @ x = b (whole-number rounding inwards); the min is
    NaN when not `need_low`."""
    from scipy.optimize import linprog

    if not objective.any():
        return 0.0, 0.0
    if not len(a):
        return 0.0, np.inf
    out = [] if need_low else [np.nan]
    for sign in ((1, -1) if need_low else (-1,)):
        result = linprog(sign * objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        if result.status == 3:  # unbounded
            out.append(np.inf if sign == -1 else 0.0)
        elif result.status != 0:
            raise RuntimeError(f"suppression audit failed: {result.message}")
        else:
            out.append(sign * result.fun)
    low, high = out
    low = float(np.ceil(low - _EPS)) + 0.0 if np.isfinite(low) else low
    return low, float(np.floor(high + _EPS)) if np.isfinite(high) else np.inf


def exposures(values, pattern: Pattern, lines: Sequence, min_cell: int) -> list[Exposure]:
    """Hidden counts of 1..min_cell-1 (cells and totals) whose largest possible value, given what is
    published, is below min_cell: a reader could tell them apart from a shown count, or pin them.

    The verdicts are those of `ranges` (its linear relaxation, rounded down), worked out only as far as the
    answer needs (`_highest_merged`): exchangeable cells merged, what the data or plain bounds settle settled,
    then one programme lifting as many as it can to min_cell, the rest maximised one by one."""
    v = _as_table(values)
    n, k = v.shape
    hidden = np.asarray(pattern.hidden, bool)
    sets = _line_sets(lines, n)
    h_index = np.flatnonzero(hidden)
    position = np.full(n, -1)
    position[h_index] = np.arange(len(h_index))
    row_lines = [li for li, (s, off) in enumerate(zip(sets, pattern.lines_hidden)) if not off and hidden[s].any()]
    rows = [sets[li] for li in row_lines]
    found = []
    for c in range(k):
        targets = []  # (kind, index, value, shown part, objective over the hidden cells)
        for i in h_index[small(v[h_index, c], min_cell)]:
            targets.append(("cell", int(i), v[i, c], 0.0, np.array([position[i]])))
        for li, line in enumerate(sets):
            total = v[line, c].sum()
            if pattern.lines_hidden[li] and 1 <= total < min_cell:
                targets.append(("line", li, total, v[line[~hidden[line]], c].sum(), position[line[hidden[line]]]))
        if not targets:
            continue
        a = np.zeros((len(rows), len(h_index)))
        b = np.zeros(len(rows))
        for r, line in enumerate(rows):
            in_h = line[hidden[line]]
            a[r, position[in_h]] = 1
            b[r] = v[in_h, c].sum()
        need = np.array([min_cell - shown for *_, shown, _ in targets])
        proofs: dict = {}
        highest = _highest_merged(a, b, v[h_index, c], [members for *_, members in targets], need, proofs)
        for j, ((kind, index, value, shown, _), most) in enumerate(zip(targets, highest)):
            if shown + most < min_cell:
                rests_on = tuple(row_lines[r] for r in proofs.get(j, ()))
                found.append(Exposure(kind, index, c, value, np.nan, shown + most, rests_on))
    return found


def _highest_merged(a: np.ndarray, b: np.ndarray, values: np.ndarray, targets: list[np.ndarray],
                    need: np.ndarray, proofs: dict | None = None) -> np.ndarray:
    """`_highest` of sums of hidden cells (`targets`: columns of `a`, counts `values`), with the same verdicts from
    fewer variables and programmes. Cells in the same shown totals (equal columns) are exchangeable, so one
    variable stands for each class: a target's largest value is that of the classes it touches. The data are
    a reading: classes holding `need` reach it; a class is at most its least total: classes that cannot reach
    `need` so are exposed (that bound stands for the largest). `proofs` (optional, filled): for each target found
    below its need, the rows of `a` its bound rests on."""
    proofs = {} if proofs is None else proofs
    if not a.shape[0] or not a.shape[1]:  # no shown total over a hidden cell: a non-empty target is unbounded
        return np.array([np.inf if len(t) else 0.0 for t in targets])
    merged, code = np.unique(a.T, axis=0, return_inverse=True)
    touched = np.zeros((len(targets), len(merged)))
    for j, members in enumerate(targets):
        touched[j, code.ravel()[members]] = 1
    out = np.full(len(targets), np.inf)
    rest = np.flatnonzero((touched @ np.bincount(code.ravel(), values, len(merged)) < need - _EPS) | ~touched.any(1))
    least = np.where(merged > 0, b, np.inf)  # classes x rows: each total a class lies in
    bound = np.where(touched[rest] > 0, least.min(axis=1), 0.0).sum(axis=1)
    out[rest] = np.where(bound < need[rest] - _EPS, np.floor(bound + _EPS), np.nan)
    for j in rest[~np.isnan(out[rest])]:
        proofs[j] = np.unique(least[touched[j] > 0].argmin(axis=1))
    rest = rest[np.isnan(out[rest])]
    if len(rest):
        found: dict = {}
        out[rest] = _highest(merged.T.copy(), b, touched[rest], need[rest], found)
        proofs.update({rest[j]: rows for j, rows in found.items()})
    return out


def _highest(a: np.ndarray, b: np.ndarray, objectives: np.ndarray, need: np.ndarray,
             proofs: dict | None = None) -> np.ndarray:
    """For each objective row o (over x >= 0 with a @ x = b): its largest value (rounded down) where that
    is below `need`, else any value of at least `need` (inf when unbounded). One programme answers them all
    (`atlas.views.lp`): readings that lift many objectives to their need at once, then the rest one by one,
    each solve from the last one's basis and each solution clearing whatever else it lifts. `proofs` (optional,
    filled): for each objective found below its need, the rows of `a` with a dual value (its bound rests on them)."""
    from atlas.views.lp import Programme  # the solver loads only when an audit needs it, not with every page

    m, h = objectives.shape
    out = np.full(m, np.nan)
    empty = ~objectives.any(axis=1)
    out[empty] = 0.0
    if not len(a):
        out[~empty] = np.inf
        return out
    open_ = np.flatnonzero(~empty)
    programme = Programme(a, b)
    proven = programme.lift(objectives[open_], need[open_])
    out[open_[proven]] = np.inf
    open_ = open_[~proven]
    while len(open_):
        j, open_ = open_[0], open_[1:]
        largest, duals = programme.maximise(objectives[j])
        out[j] = float(np.floor(largest + _EPS)) if np.isfinite(largest) else np.inf
        if proofs is not None and out[j] < need[j] - _EPS:
            proofs[j] = np.flatnonzero(np.abs(duals) > _EPS)
        if np.isfinite(largest) and len(open_):
            lifted = programme.lifted(objectives[open_], need[open_])  # this reading clears others too
            out[open_[lifted]] = np.inf
            open_ = open_[~lifted]
    return out


def protect(values, lines: Sequence, min_cell: int, primary=None, max_rounds: int = 10_000) -> Pattern:
    """The suppression pattern of a table: primary, then complementary until the audit passes.

    `values`: (cells, columns) counts, or one column. A cell is hidden in all its columns at once (a
    rate cell's positive and other exits go together). `lines`: for each total the table publishes
    (per column), the indices of the cells it adds up. `primary`: the cells to hide for their own
    sake (default: any count of 1..min_cell-1)."""
    v = _as_table(values)
    n, k = v.shape
    sets = _line_sets(lines, n)
    first = small(v, min_cell).any(axis=1) if primary is None else np.asarray(primary, bool).copy()
    hidden = first.copy()
    lines_hidden = np.array([small(v[s].sum(axis=0), min_cell).any() for s in sets], dtype=bool)
    size = v.sum(axis=1)
    for _ in range(max_rounds):
        changed = False
        for li, s in enumerate(sets):
            if lines_hidden[li]:
                continue
            for c in range(k):
                concealed = v[s[hidden[s]], c].sum()
                if 0 < concealed < min_cell:
                    candidates = s[~hidden[s] & (v[s, c] > 0)]
                    if not _hide_smallest(size, hidden, candidates):
                        lines_hidden[li] = True
                    changed = True
                    break
        if changed:
            continue
        pattern = Pattern(hidden.copy(), first, lines_hidden.copy())
        found = exposures(v, pattern, sets, min_cell)
        if not found:
            return pattern
        _repair(v, size, sets, hidden, lines_hidden, found)
    raise RuntimeError("suppression did not converge")


def _hide_smallest(size: np.ndarray, hidden: np.ndarray, candidates: np.ndarray) -> bool:
    """Hide the candidate cell of the smallest `size` (its counts added up; ties: the first); False when there
    is none."""
    if not len(candidates):
        return False
    order = np.lexsort((candidates, size[candidates]))
    hidden[candidates[order[0]]] = True
    return True


def _repair(v: np.ndarray, size: np.ndarray, sets: list[np.ndarray], hidden: np.ndarray, lines_hidden: np.ndarray,
            found: list[Exposure]) -> None:
    """One round of `protect`'s repairs of what the audit found exposed (in place): another cell hidden in a
    total that pins each exposed count, or, with none left to hide, that total no longer published."""
    fixed: set[int] = set()  # the totals a complement was added to in this round
    for exposure in found:
        members = [li for li, s in enumerate(sets) if not lines_hidden[li]
                   and (exposure.index in s if exposure.kind == "cell" else
                        np.intersect1d(s, sets[exposure.index]).size)]
        if not members or fixed & set(members):
            continue  # what was hidden this round may already cover it: the next audit will tell
        candidates = np.unique(np.concatenate([sets[li][~hidden[sets[li]] & (v[sets[li], exposure.column] > 0)]
                                               for li in members])) if members else np.array([], int)
        if _hide_smallest(size, hidden, candidates):
            fixed.update(members)
            continue
        # nothing left to hide alongside it: stop publishing another total. What pins it then is a shown total
        # less its shown parts (the network less the service types shown leaves the hidden ones' sum), so the
        # smallest shown total beside one over it goes first, and a total over it only when there is none
        over = [li for li, s in enumerate(sets) if (exposure.index in s if exposure.kind == "cell"
                                                    else np.intersect1d(s, sets[exposure.index]).size)]
        beside = [li for li, s in enumerate(sets) if not lines_hidden[li] and li not in over
                  and any(np.intersect1d(s, sets[o]).size for o in over)]
        li = min(beside or [li for li in over if not lines_hidden[li]], key=lambda li: v[sets[li]].sum(), default=None)
        if li is None:
            raise RuntimeError("suppression could not protect a cell")  # cannot happen: no total pins it
        lines_hidden[li] = True
        fixed.add(li)


def protect_many(values, tables, lines, min_cell: int) -> np.ndarray:
    """`protect` of many small one-column tables at once, each of whose published totals split it: every
    cell is in exactly one total of its table. Returns the `hidden` mask, the same as
    `protect(values[t], [cells of each line of t], min_cell).hidden` for every table t (the cells of a
    table numbered in the order they come here), without a Python loop per table.

    `values`: (cells,) counts; `tables`, `lines`: (cells,) labels of each cell's table and, within it,
    of its total (the totals listed in the order of their labels). When totals do not overlap, the three rules are simple and are
    applied to all tables together, round by round as `protect` does:

    * primary: counts of 1..min_cell-1 are hidden; a total of 1..min_cell-1 is not published;
    * complementary: each published total whose hidden cells add up to 1..min_cell-1 hides its
      smallest other non-zero cell (ties: the first), until they add up to 0 or at least min_cell;
    * audit: a hidden cell belongs to one total only, so what is published bounds it by exactly that
      total's hidden sum (or not at all when the total is not published), and a hidden total's hidden
      cells are in no published total, so its largest value is unbounded unless it hides no cell.
      The audit is computed from these exact bounds. Any table it finds exposed (the complementary
      rule leaves none, but the proof is not taken on trust) is protected again by `protect` itself,
      repairs and linear programming included."""
    v = np.asarray(values, dtype=float).ravel()
    n = len(v)
    hidden = small(v, min_cell)
    if not n or not hidden.any():
        return hidden
    table_code = pd.factorize(pd.Series(np.asarray(tables)), use_na_sentinel=False)[0]
    line_code = pd.factorize(pd.Series(np.asarray(lines)), sort=True, use_na_sentinel=False)[0]
    line_of = pd.factorize(pd.Series(table_code.astype(np.int64) * (line_code.max() + 1) + line_code))[0]
    count = line_of.max() + 1
    line_total = np.bincount(line_of, v, count)
    line_off = small(line_total, min_cell)  # not published
    order = np.lexsort((np.arange(n), v, line_of))  # within each total: smallest count first, then first cell
    while True:
        concealed = np.bincount(line_of, np.where(hidden, v, 0.0), count)
        short = (concealed > 0) & (concealed < min_cell) & ~line_off
        if not short.any():
            break
        ranked = order[(~hidden & (v > 0) & short[line_of])[order]]
        firsts = ranked[np.unique(line_of[ranked], return_index=True)[1]]
        hidden[firsts] = True
        stuck = short.copy()
        stuck[line_of[firsts]] = False
        line_off |= stuck  # nothing left to hide alongside: the total is not published
    # the audit, from the exact bounds above
    concealed = np.bincount(line_of, np.where(hidden, v, 0.0), count)
    cell_high = np.where(line_off[line_of], np.inf, concealed[line_of])
    exposed_cell = hidden & small(v, min_cell) & (cell_high < min_cell)
    hides_some = np.bincount(line_of, hidden, count) > 0
    exposed_line = line_off & small(line_total, min_cell) & ~hides_some
    exposed = np.zeros(table_code.max() + 1, bool)
    exposed[table_code[exposed_cell | exposed_line[line_of]]] = True
    for t in np.flatnonzero(exposed):
        index = np.flatnonzero(table_code == t)
        parts = [np.flatnonzero(line_code[index] == c) for c in np.unique(line_code[index])]
        hidden[index] = protect(v[index], parts, min_cell).hidden
    return hidden


def table_lines(shape: tuple[int, int], rows: bool = True, columns: bool = True, total: bool = True) -> list[np.ndarray]:
    """The totals of a rows x columns table whose cells are numbered row by row: each row, each
    column and the grand total, as cell indices for `protect`."""
    r, c = shape
    index = np.arange(r * c).reshape(r, c)
    lines = []
    if rows:
        lines += [index[i] for i in range(r)]
    if columns:
        lines += [index[:, j] for j in range(c)]
    if total:
        lines.append(index.ravel())
    return lines


# --------------------------------------------------------------------------------------------
# Nested periods: a calendar year and its quarters, protected together
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Nested:
    """What may be shown of a table published for each quarter of a year and for the year. Base cells are
    (quarter, cell), numbered quarter by quarter (quarter q's cell i is q * cells + i); every figure
    published for the year is a line over them (`year_lines`)."""

    quarters: tuple[Pattern, ...]  # each quarter's own pattern, over its cells and the table's lines
    year_lines: tuple[np.ndarray, ...]  # over base cells: the year's cells (when published), then its lines
    year_hidden: np.ndarray  # (year lines,) bool: the year's figure is not shown
    cells: int  # cells per quarter

    @property
    def year_cells_hidden(self) -> np.ndarray:
        """The year's cells hidden (when the year publishes its cells: the first `cells` year lines)."""
        return self.year_hidden[:self.cells]

    def lines(self, lines: Sequence) -> tuple[list[np.ndarray], np.ndarray]:
        """Every published line over the base cells (the quarters' lines, then the year's) and which are
        hidden: with `base_hidden`, what `ranges` audits."""
        n = self.cells
        quarter = [np.asarray(line, int) + q * n for q in range(len(self.quarters)) for line in _line_sets(lines, n)]
        hidden = [p.lines_hidden for p in self.quarters] + [self.year_hidden]
        return quarter + list(self.year_lines), np.concatenate(hidden).astype(bool)

    @property
    def base_hidden(self) -> np.ndarray:
        return np.concatenate([p.hidden for p in self.quarters])


def protect_nested(values, lines: Sequence, min_cell: int, year_cells: bool = True,
                   year_totals: Sequence | None = None, quarters: Sequence[Pattern] | None = None) -> Nested:
    """Protect a table published for each quarter of a year and for the year, so that the five together
    pin no hidden count within 1..min_cell-1.

    `values`: (quarters, cells, columns) counts; `lines`: the table's totals, as cell indices, the same in
    every period. Each quarter is protected first, on its own (`protect`), so a quarter's figures never
    change when a later quarter's data arrive. The year is then protected with the quarters' patterns
    fixed: its cells (the quarters' sums, when `year_cells`; a table whose year shows the very cells of its
    quarters, as a monthly trend does, publishes only the year's totals) and totals start hidden where they
    are small (`year_totals`, lines over the base cells, replace the table's lines summed over the quarters
    when the year publishes other totals), and the linear-programming audit runs over all five periods'
    published lines together;
    where it pins a hidden count, a year figure is hidden (its own row, else the smallest other row sharing
    a total with it, else the total itself), never a quarter's. `quarters`: their patterns, if worked out."""
    v3 = np.asarray(values, dtype=float)
    if v3.ndim == 2:
        v3 = v3[:, :, None]
    periods, n, _ = v3.shape
    sets = _line_sets(lines, n)
    quarters = tuple(quarters or (protect(v3[q], sets, min_cell) for q in range(periods)))
    spread = [np.arange(periods) * n + i for i in range(n)] if year_cells else []
    totals = ([np.concatenate([s + q * n for q in range(periods)]) for s in sets] if year_totals is None
              else _line_sets(year_totals, periods * n))
    year_lines = tuple(spread + totals)
    base = v3.reshape(periods * n, -1)
    year_hidden = np.array([small(base[s].sum(axis=0), min_cell).any() for s in year_lines], dtype=bool)
    nested = Nested(quarters, year_lines, year_hidden, n)
    if year_totals is None:
        _complement_year(v3, sets, quarters, year_cells, year_hidden, min_cell)
    for _ in range(10_000):
        every, hidden = nested.lines(sets)
        pattern = Pattern(nested.base_hidden, nested.base_hidden, hidden)
        found = exposures(base, pattern, every, min_cell)
        if not found:
            return nested
        if not _repair_year(base, every, len(every) - len(year_lines), len(spread), year_hidden, found):
            raise RuntimeError("suppression could not protect a year and its quarters")  # the quarters alone pin it
    raise RuntimeError("suppression of a year and its quarters did not converge")


def _complement_year(v3: np.ndarray, sets: list[np.ndarray], quarters: tuple[Pattern, ...], year_cells: bool,
                     year_hidden: np.ndarray, min_cell: int) -> None:
    """The year's complementary rule, without linear programming (in place on `year_hidden`), so the audit
    that follows has little left to find: a year figure is hidden when what the quarters hide of it adds
    up to 1..min_cell-1 (it would give that away), and within each year total the hidden year cells add up
    to 0 or at least min_cell (the smallest other cell is hidden with them, as `protect` does)."""
    periods, n, _ = v3.shape
    base_hidden = np.stack([p.hidden for p in quarters])  # (quarters, cells)
    lines_off = np.stack([p.lines_hidden for p in quarters])  # (quarters, lines)
    year = v3.sum(axis=0)
    offset = n if year_cells else 0
    line_concealed = np.stack([[v3[q, s].sum(axis=0) if lines_off[q, li] else np.zeros(v3.shape[2])
                                for li, s in enumerate(sets)] for q in range(periods)]).sum(axis=0)
    while True:
        changed = False
        if year_cells:
            concealed = (v3 * base_hidden[:, :, None]).sum(axis=0)  # (cells, columns): the quarters' hidden parts
            spill = ~year_hidden[:n] & small(concealed, min_cell).any(axis=1)
            year_hidden[:n] |= spill
            changed |= bool(spill.any())
        for li, s in enumerate(sets):
            if year_hidden[offset + li]:
                continue
            if small(line_concealed[li], min_cell).any():
                year_hidden[offset + li] = changed = True
                continue
            if not year_cells:
                continue
            inside = year_hidden[:n][s]
            if small(year[s[inside]].sum(axis=0), min_cell).any():
                candidates = s[~inside & (year[s].sum(axis=1) > 0)]
                if len(candidates):
                    year_hidden[candidates[np.lexsort((candidates, year[candidates].sum(axis=1)))[0]]] = True
                else:
                    year_hidden[offset + li] = True
                changed = True
        if not changed:
            return


def _repair_year(base: np.ndarray, every: list[np.ndarray], first_year: int, year_cells: int,
                 year_hidden: np.ndarray, found: list[Exposure]) -> bool:
    """One round of `protect_nested`'s repairs (in place on `year_hidden`): for each exposed count, hide a
    year figure that helps pin it: the smallest shown year figure its bound rests on (the programme's proof:
    hiding a row that is not in it would leave the count as pinned as before); without a proof, the year's row
    holding it; else, in the smallest shown year total over it, the smallest other row with a count in the
    exposed column, or that total itself when it holds none; else the smallest shown year total over a line it
    shares. False when there was nothing left to hide."""
    size = np.array([base[s].sum() for s in every])
    year = np.arange(first_year, len(every))
    shown = ~year_hidden
    touched: set[int] = set()  # the year figures hidden this round
    for exposure in found:
        proof = np.array([li for li in exposure.rests_on if li >= first_year], dtype=int)
        if touched & set(proof.tolist()):
            continue  # hidden alongside another this round: the next audit will tell
        pick = proof[shown[proof - first_year] & (size[proof] > 0)]
        if len(pick):
            chosen = int(pick[np.lexsort((pick, size[pick]))[0]])
            year_hidden[chosen - first_year] = True
            touched.add(chosen)
            continue
        exposed = np.array([exposure.index]) if exposure.kind == "cell" else every[exposure.index]
        meets = np.array([np.intersect1d(every[li], exposed).size > 0 for li in year])
        pick = year[:year_cells][shown[:year_cells] & meets[:year_cells]]
        totals = year[year_cells:][shown[year_cells:] & meets[year_cells:]]
        if not len(pick) and len(totals):
            total = int(totals[np.lexsort((totals, size[totals]))[0]])
            pick = np.array([li for li in year[:year_cells] if shown[li - first_year]
                             and base[every[li], exposure.column].sum() > 0
                             and np.intersect1d(every[li], every[total]).size], dtype=int)
            pick = pick if len(pick) else np.array([total])
        if not len(pick):
            near = np.unique(np.concatenate([s for s in every if np.intersect1d(s, exposed).size]))
            pick = year[shown & np.array([np.intersect1d(every[li], near).size > 0 for li in year])]
        if not len(pick) or touched & set(pick.tolist()):
            continue  # hidden alongside another this round, or left for the next audit to judge
        chosen = int(pick[np.lexsort((pick, size[pick]))[0]])
        year_hidden[chosen - first_year] = True
        touched.add(chosen)
    return bool(touched)


# --------------------------------------------------------------------------------------------
# Referral flows: the board's and funders' maps
# --------------------------------------------------------------------------------------------

_FLOW_ORDER = (["referrals", "from_agency_id", "to_agency_id"], [False, True, True])


def complement_flows(flows: pd.DataFrame, total: int, min_cell: int) -> pd.DataFrame:
    """The shown flows less the smallest ones, as long as what is left out of `total` (the period's
    published referral count) adds up to 1..min_cell-1: the complementary rule, for a map that publishes
    its flows beside the period's total."""
    flows = flows.sort_values(_FLOW_ORDER[0], ascending=_FLOW_ORDER[1])
    kept = len(flows)
    concealed = total - int(flows["referrals"].sum())
    values = flows["referrals"].to_numpy()
    while 0 < concealed < min_cell and kept:
        kept -= 1
        concealed += int(values[kept])
    return flows.head(kept).sort_values(_FLOW_ORDER[0], ascending=_FLOW_ORDER[1]).reset_index(drop=True)

