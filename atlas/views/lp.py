"""One linear programme asked many questions: the suppression audits' solver (`atlas.views.suppression`,
`atlas.views.network.audit`). Computing layer: numpy, scipy.sparse and HiGHS (`highspy`).

An audit asks the same published figures many questions: the largest value of one hidden figure, then of the
next, always over x >= 0 with A x = b (a reader's possible counts, given every shown figure). Solving each from
scratch (scipy's `linprog`) rebuilds and presolves the model every time; here the model is built once and only
the objective changes, so each solve starts from the last one's basis (primal simplex: the last optimum is
still a feasible reading) and takes a handful of iterations instead of a full solve."""

from __future__ import annotations

import highspy
import numpy as np
from scipy import sparse

_EPS = 1e-6
_FEW = 10  # a reading that proves fewer targets than this costs more than asking them one by one
# targets a reading of many at once tries to lift: the objective of a few hundred moves the solution far enough
# to lift most of them while the basis stays near the last one (on the 1M-referral demo's year, chunks of 300
# took 13 s where all the open targets at once took 24 s, and 150 or 2,000 were slower again)
_CHUNK = 300
_OPTIONS = (("output_flag", False), ("log_to_console", False), ("threads", 1), ("presolve", "off"),
            ("simplex_strategy", 4))  # 4: primal simplex, which a change of objective leaves feasible


class Programme:
    """x >= 0 with A x = b, kept in one HiGHS model; `maximise` any objective over it, as often as needed."""

    def __init__(self, a, b):
        matrix = sparse.csc_matrix(a, dtype=float)
        matrix.sort_indices()
        self.shape = matrix.shape
        self.unbounded = np.diff(matrix.indptr) == 0  # variables in no equality: nothing bounds them
        equal = np.asarray(b, float).ravel()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
        lp.col_cost_ = np.zeros(matrix.shape[1])
        lp.col_lower_ = np.zeros(matrix.shape[1])
        lp.col_upper_ = np.full(matrix.shape[1], highspy.kHighsInf)
        lp.row_lower_ = lp.row_upper_ = equal
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        lp.sense_ = highspy.ObjSense.kMaximize
        self._highs = highspy.Highs()
        for option, value in _OPTIONS:
            self._highs.setOptionValue(option, value)
        self._check(self._highs.passModel(lp), "could not take")
        self._cost = np.zeros(matrix.shape[1])

    def maximise(self, objective) -> tuple[float, np.ndarray]:
        """The largest value of `objective` @ x (inf when unbounded) and the equalities' dual values (zero when
        unbounded): the equalities the bound rests on are those with a dual value."""
        objective = np.asarray(objective, float).ravel()
        changed = np.flatnonzero(objective != self._cost)
        if len(changed):
            self._highs.changeColsCost(len(changed), changed.astype(np.int32), objective[changed])
            self._cost = objective.copy()
        self._check(self._highs.run(), "failed on")
        status = self._highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return np.inf, np.zeros(self.shape[0])
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"suppression audit failed: the solver ended '{self._highs.modelStatusToString(status)}' "
                               f"on a programme of {self.shape[0]} equalities and {self.shape[1]} variables")
        return float(self._highs.getInfo().objective_function_value), np.asarray(self._highs.getSolution().row_dual)

    def solution(self) -> np.ndarray:
        """x of the last optimum: a reading consistent with every equality."""
        return np.asarray(self._highs.getSolution().col_value)

    def lift(self, reach, need: np.ndarray) -> np.ndarray:
        """Which targets (rows of `reach`, the variables each adds up) some reading lifts to at least their `need`,
        found by readings of many at once: maximise the sum of the first few hundred open targets' totals, and
        each target (of them all) whose total reaches its need in that solution is proven (the solution is a
        witness). Rounds repeat over the targets left, each from the last one's basis, while a round proves at
        least a few; the rest are left to one programme each. A target with an unbounded variable is proven
        without a solve."""
        reach = sparse.csr_matrix(reach, dtype=float)
        need = np.asarray(need, float)
        proven = (reach @ self.unbounded.astype(float) > 0) | (need <= _EPS)
        while (~proven).sum() >= _FEW:
            self.maximise(np.asarray(reach[np.flatnonzero(~proven)[:_CHUNK]].sum(axis=0)).ravel())
            lifted = self.lifted(reach, need) & ~proven
            proven |= lifted
            if lifted.sum() < _FEW:
                break
        return proven

    def lifted(self, reach, need: np.ndarray) -> np.ndarray:
        """Which targets the last optimum lifts to their need."""
        return reach @ self.solution() >= need - _EPS

    def _check(self, status, what: str) -> None:
        if status == highspy.HighsStatus.kError:
            raise RuntimeError(f"suppression audit failed: the solver {what} a programme of {self.shape[0]} "
                               f"equalities and {self.shape[1]} variables")
