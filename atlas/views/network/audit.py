"""Suppression over a published set: many figures, each the sum of some base cells, protected and audited
together (the board's network set: atlas.views.network.published). Computing layer: numpy, scipy.sparse and
HiGHS (atlas.views.lp), no data.

The model: base cells (the finest grain the set is built from, e.g. one pair of agencies in one quarter)
with their counts, and figures, each the sum of a set of base cells (an agency flow is one cell, a region's
referrals many). A figure is shown or hidden; a reader knows every shown figure, that counts are whole and
never negative, and which cells exist (a conservative reader: zero cells are known zeros). A hidden figure
of 1..min_cell-1 is *exposed* when its largest value consistent with what is shown is below min_cell.

The audit is the linear programme of `atlas.views.suppression.ranges`, made small enough for a whole set:

* **Exchangeable cells merge.** Cells that lie in exactly the same shown figures cannot be told apart by a
  reader, so one variable stands for each such class without changing any bound: a hidden figure's largest
  value is the largest total of the classes it touches (the mass of each class may sit in the figure's
  own cells). A class pinned by a shown figure of its own (a shown agency flow) is a known constant.
* **Most proofs need no solver.** A hidden figure whose classes already hold min_cell in the data is safe:
  the data is itself a solution.
* **The rest share one programme.** The equalities of one audit are built once into a HiGHS model
  (`atlas.views.lp.Programme`) and every question changes only its objective, so each solve starts from the last
  one's basis. Readings of many figures at once come first: maximise the open figures' sum; every figure that
  reaches min_cell in that solution is proven safe (the solution is a witness), and rounds repeat while they
  prove a few. Each figure left is asked on its own: pinned by plain differences of a holder, or its largest
  value (below min_cell: exposed, the equalities its dual values rest on the proof; else its solution may
  prove others safe too). The verdicts are those of the relaxation's optimum, whatever path the solver takes;
  a proof is one of the bound's dual solutions, which need not be unique, so another solver or path may name
  other figures for the same exposure (and the repair may hide another figure, as good).

`protect` hides figures until the audit passes: primary (small) figures first, then, for each exposed
figure, the smallest shown figure of the same grain beside it (inside a shown figure that holds it, sharing
no cell with it), or with none, the smallest shown figure holding it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from atlas.views.lp import Programme

_EPS = 1e-6


class Figures:
    """Base cells and the figures over them: `values` (cells,) counts, `members` each figure's cell indices,
    `grains` each figure's grain (figures of one grain are siblings: agency flows, region pairs, ...)."""

    def __init__(self, values, members: Sequence, grains: Sequence[str]):
        self.values = np.asarray(values, dtype=float)
        self.members = [np.unique(np.asarray(m, dtype=np.int64)) for m in members]
        self.grains = list(grains)
        self.totals = np.array([self.values[m].sum() for m in self.members])
        lengths = [len(m) for m in self.members]
        rows = np.repeat(np.arange(len(self.members)), lengths)
        cols = np.concatenate(self.members) if self.members else np.zeros(0, np.int64)
        # figures x cells, 1 where the cell is in the figure
        self.incidence = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                                           shape=(len(self.members), len(self.values)))

        self._inside: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.members)

    def inside(self, holder: int) -> np.ndarray:
        """The figures whose cells all lie in the holder's (itself among them), the largest first (ties: in
        order); kept, as every audit of a protection asks it of the same holders."""
        if holder not in self._inside:
            cells = np.bincount(self.members[holder], minlength=len(self.values))
            within = np.flatnonzero(self.incidence @ cells == np.diff(self.incidence.indptr))
            self._inside[holder] = within[np.argsort(-self.totals[within], kind="stable")]
        return self._inside[holder]

    def small(self, min_cell: int) -> np.ndarray:
        return (self.totals >= 1) & (self.totals < min_cell)


def _classes(figures: Figures, shown: np.ndarray) -> np.ndarray:
    """Each cell's class: cells in exactly the same shown figures share one."""
    by_cell = figures.incidence[np.flatnonzero(shown)].T.tocsr()  # cells x shown figures
    keys = [by_cell.indices[by_cell.indptr[i]:by_cell.indptr[i + 1]].tobytes() for i in range(by_cell.shape[0])]
    _, code = np.unique(np.array(keys, dtype=object), return_inverse=True)
    return code.astype(np.int64)


def exposed(figures: Figures, hidden, min_cell: int, safe: np.ndarray | None = None) -> np.ndarray:
    """The hidden figures of 1..min_cell-1 whose largest value, given every shown figure, is below min_cell.

    `safe` (optional, updated in place) marks figures already proven safe under a pattern that showed at least
    as much: hiding more only widens what a reader must allow, so they are not proven again."""
    out = np.zeros(len(figures), bool)
    out[list(_exposures(figures, np.asarray(hidden, bool), min_cell, safe))] = True
    return out


def _exposures(figures: Figures, hidden: np.ndarray, min_cell: int, safe: np.ndarray | None = None,
               known: dict | None = None) -> dict:
    """Each exposed figure with the shown figures that pin it (the proof: a holder and what it holds beside
    the figure, or the figures the programme's bound rests on). `known`: proofs found before, taken as they
    stand while every figure of them is still shown (protect's repairs; its last audit takes none)."""
    safe = np.zeros(len(figures), bool) if safe is None else safe
    targets = np.flatnonzero(hidden & figures.small(min_cell) & ~safe)
    kept = {t: proof for t, proof in (known or {}).items() if hidden[t] and not hidden[proof].any()}
    targets = np.array([t for t in targets if t not in kept], dtype=np.int64)
    if not len(targets):
        return kept
    code = _classes(figures, ~hidden)
    mass = np.bincount(code, figures.values, code.max() + 1)
    touched = [np.unique(code[figures.members[t]]) for t in targets]
    open_ = [i for i, c in enumerate(touched) if mass[c].sum() < min_cell - _EPS]
    safe[targets] = True
    if not open_:
        return kept
    a, b, free, origin = _programme(figures, ~hidden, code, mass)
    # the classes each open target touches, as columns of the programme (pinned classes add their constant)
    rows = [(targets[i], mass[touched[i][~free[touched[i]]]].sum(), _columns(free, touched[i])) for i in open_]
    # one programme for every question of this audit: each solve starts from the last one's basis
    solver = Programme(a, b) if a.shape[0] else None
    reach, caps = _reach(rows, a.shape[1], min_cell)
    lifted = solver.lift(reach, caps) if solver else (np.diff(reach.indptr) > 0) | (caps <= _EPS)
    found = dict(kept)
    for i, (target, constant, columns) in enumerate(rows):
        if lifted[i]:
            continue
        proof = _pinned_by_a_holder(figures, ~hidden, target, min_cell)
        if proof is None:
            largest, duals = _largest(a, b, columns, solver)
            if constant + largest < min_cell - _EPS:
                proof = origin[np.abs(duals) > _EPS]
            elif solver is not None and np.isfinite(largest):  # its witness may lift targets still to come
                lifted |= solver.lifted(reach, caps)
        if proof is None:
            continue
        safe[target] = False
        found[target] = proof
    return found


def _pinned_by_a_holder(figures: Figures, shown: np.ndarray, target: int, min_cell: int) -> np.ndarray | None:
    """A shown figure holding the target and shown figures inside it that share no cell with the target (nor
    with one another) that together leave less than min_cell for it, when there are such: then the target
    is exposed, and plain differences of published figures prove it without a solver."""
    cells = figures.members[target]
    common = figures.incidence @ np.bincount(cells, minlength=len(figures.values))  # cells shared with the target
    disjoint = common == 0
    for h in np.flatnonzero(shown & (common == len(cells))):
        inside = figures.inside(h)
        taken = np.zeros(len(figures.values), bool)
        known, packed = 0.0, [h]
        # the largest first (ties: in order), each taken when it shares no cell with those taken before
        for f in inside[disjoint[inside] & shown[inside]]:
            members = figures.members[f]
            if not taken[members].any():
                taken[members] = True
                known += figures.totals[f]
                packed.append(f)
        if figures.totals[h] - known < min_cell - _EPS:
            return np.array(packed, dtype=np.int64)
    return None


def _reach(rows: list, n: int, min_cell: int):
    """Which programme variables each target adds up (targets x variables) and what its total must reach to be
    safe (min_cell less its pinned constant)."""
    caps = np.array([max(min_cell - constant, 0.0) for _, constant, _ in rows])
    link_rows = np.repeat(np.arange(len(rows)), [len(c) for _, _, c in rows])
    link_cols = np.concatenate([c for _, _, c in rows]) if rows else np.zeros(0, np.int64)
    return sparse.csr_matrix((np.ones(len(link_rows)), (link_rows, link_cols)), shape=(len(rows), n)), caps


def _columns(free: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The programme's variables (the free classes, numbered in order) among `classes`."""
    position = np.cumsum(free) - 1
    return position[classes[free[classes]]]


def _programme(figures: Figures, shown: np.ndarray, code: np.ndarray, mass: np.ndarray):
    """The equalities the shown figures set on the classes' totals (x >= 0), classes pinned by a shown figure
    of their own left out as constants: (A, b, which classes are free variables, each row's figure)."""
    n = len(mass)
    by_class = sparse.csr_matrix((np.ones(len(code)), (code, np.arange(len(code)))), shape=(n, len(code)))
    rows = (figures.incidence[np.flatnonzero(shown)] @ by_class.T).tocsr()  # shown figures x classes (cells)
    rows.data[:] = 1.0
    sizes = np.diff(rows.indptr)
    pinned = np.zeros(n, bool)
    pinned[rows.indices[rows.indptr[:-1][sizes == 1]]] = True
    free = ~pinned
    totals = np.asarray(figures.totals[np.flatnonzero(shown)]) - rows[:, pinned] @ mass[pinned]
    a = rows[:, free].tocsr()
    keep = np.diff(a.indptr) > 0
    return a[keep], totals[keep], free, np.flatnonzero(shown)[keep]


def _largest(a, b, columns: np.ndarray, programme: Programme | None = None) -> tuple[float, np.ndarray]:
    """The largest total of the variables `columns` (x >= 0, A x = b; inf when unbounded) and the
    equalities' dual values (which figures the bound rests on). `programme`: a `Programme(a, b)` to solve on
    (one kept over many calls starts each from the last basis), made here when not given."""
    none = np.zeros(a.shape[0])
    if not len(columns):
        return 0.0, none
    if not a.shape[0]:
        return np.inf, none
    objective = np.zeros(a.shape[1])
    objective[columns] = 1.0
    largest, duals = (programme or Programme(a, b)).maximise(objective)
    if not np.isfinite(largest):
        return np.inf, none
    return float(np.floor(largest + _EPS)), duals[:a.shape[0]]


def protect(figures: Figures, min_cell: int, hidden=None, may_hide=None, cost=None,
            max_rounds: int = 10_000) -> np.ndarray:
    """Which figures to hide so that no hidden count of 1..min_cell-1 can be pinned below min_cell.

    `hidden`: figures hidden from the start (default: the small ones, 1..min_cell-1); `may_hide`: the
    figures this call may hide (default: all) — figures outside it keep their state (a quarter's pattern
    when its year is protected, a figure published elsewhere as it stands); `cost`: what hiding each figure
    costs the reader per referral (default 1): the repair hides the cheapest figure of each proof."""
    hide = figures.small(min_cell) if hidden is None else np.asarray(hidden, bool).copy()
    allowed = np.ones(len(figures), bool) if may_hide is None else np.asarray(may_hide, bool)
    weight = np.ones(len(figures)) if cost is None else np.asarray(cost, float)
    hide |= figures.small(min_cell) & allowed
    safe = np.zeros(len(figures), bool)
    known: dict = {}
    for _ in range(max_rounds):
        known = _exposures(figures, hide, min_cell, safe, known)
        if not known:
            known = _exposures(figures, hide, min_cell, safe)  # the last word is an audit that trusts no proof
            if not known:
                return hide
        _repair(figures, hide, allowed, weight, known)
    raise RuntimeError("suppression did not converge")


def _repair(figures: Figures, hide: np.ndarray, allowed: np.ndarray, weight: np.ndarray, found: dict) -> None:
    """One round of repairs (in place): for each exposed figure, the cheapest figure of its proof that may be
    hidden (the figure's count times its cost), unless this round already hid one of that proof."""
    hidden_now: set[int] = set()
    for target, proof in found.items():
        if hidden_now & set(proof.tolist()):
            continue
        pool = proof[allowed[proof] & ~hide[proof] & (figures.totals[proof] > 0)]
        if not len(pool):  # a proof of figures that stay shown: hide the smallest figure that may go beside it
            cells = figures.members[target]
            near = (figures.incidence[:, cells].sum(axis=1).A1 > 0) & allowed & ~hide & (figures.totals > 0)
            pool = np.flatnonzero(near)
        if not len(pool):
            raise RuntimeError("suppression could not protect a figure")
        pick = int(pool[np.argmin(figures.totals[pool] * weight[pool])])
        hide[pick] = True
        hidden_now.add(pick)


def reveal_determined(figures: Figures, hidden, min_cell: int, may_show=None) -> np.ndarray:
    """The pattern with every hidden figure of at least min_cell shown whose value the shown figures already fix:
    its cells are exactly shown figures that share no cell (a year's flow over its four shown quarters), or a shown
    figure holding it less shown figures inside that holder, beside it and sharing no cell (a region pair less its
    shown formal part). Showing such a figure adds no equation a reader did not have, so every bound of the
    audit, and its verdict, stands; hiding it only made the page harder to read. Only these plain proofs are
    taken (the solver is never asked), round after round while figures shown so open more; a figure of
    1..min_cell-1 is never shown (it is exposed already, or not determined).

    `may_show` (default: all) limits what is shown to the figures a step may change (a year's step keeps its
    quarters' patterns as they are). A figure outside it may still carry a proof once it is fixed: it is then
    fixed by shown figures itself, so what it proves is too."""
    hidden = np.asarray(hidden, bool)
    hide = hidden.copy()
    rows = figures.incidence
    sizes = np.diff(rows.indptr)
    while True:
        shown = ~hide
        revealed = [t for t in np.flatnonzero(hide & (figures.totals >= min_cell))
                    if _determined(figures, rows, sizes, shown, int(t))]
        if not revealed:
            return hide if may_show is None else hide | (hidden & ~np.asarray(may_show, bool))
        hide[revealed] = False


def _determined(figures: Figures, rows, sizes: np.ndarray, shown: np.ndarray, target: int) -> bool:
    """Whether the shown figures fix the target by one of reveal_determined's two plain proofs."""
    cells = figures.members[target]
    overlap = (rows @ rows[target].T).toarray().ravel()  # cells each figure shares with the target
    inside = shown & (overlap == sizes) & (sizes > 0)
    if _exactly_covered(figures, cells, np.flatnonzero(inside)):
        return True
    holders = np.flatnonzero(shown & (overlap == len(cells)) & (sizes > len(cells)))
    for h in holders[np.argsort(sizes[holders], kind="stable")]:
        rest = np.setdiff1d(figures.members[h], cells, assume_unique=True)
        within = (rows @ rows[h].T).toarray().ravel()  # cells each figure shares with the holder
        parts = np.flatnonzero(shown & (within == sizes) & (overlap == 0) & (sizes > 0))
        if _exactly_covered(figures, rest, parts):
            return True
    return False


def _exactly_covered(figures: Figures, cells: np.ndarray, parts: np.ndarray) -> bool:
    """Whether figures among `parts` (each inside `cells`) that share no cell with one another make up exactly
    `cells`: the largest first, each taken when it shares no cell with those taken."""
    if not len(cells) or not len(parts):
        return False
    if len(np.unique(np.concatenate([figures.members[p] for p in parts]))) < len(cells):
        return False  # together they leave a cell out: no packing of them can cover it
    taken = np.zeros(len(figures.values), bool)
    left = len(cells)
    for p in parts[np.argsort(-np.array([len(figures.members[p]) for p in parts]), kind="stable")]:
        members = figures.members[p]
        if not taken[members].any():
            taken[members] = True
            left -= len(members)
            if not left:
                return True
    return False
