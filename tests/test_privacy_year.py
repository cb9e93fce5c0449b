"""Privacy of a whole year with its quarters (issue 30): the board's published set of the continuum's latest year,
and the funders' set of the dense demo's, audited together by a check of their own.

The board's set is read back from what the pages, their tables and exports and the board pack show (the helpers
of `test_privacy_board`), over base cells counted from the community's own CSV files. The check is not the
engine's (`atlas.views.network.audit`: merged classes, holders, proofs): it is the plain linear programme over
the UNMERGED base cells, x >= 0 and one equation for every shown figure, and asks of every hidden figure of
1..10 whether some reading lifts it to 11. Readings come from the warm-started solver (`atlas.views.lp`), but
none is taken on trust: each is checked here to meet every equation before it counts as a witness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from test_privacy_board import ROOT, M, pack_figures, year, year_set

from atlas.db import Atlas
from atlas.views.lp import Programme


@pytest.fixture(scope="module")
def continuum(tmp_path_factory) -> tuple[Path, Path]:
    """The continuum built by the real command, with its contract files beside it."""
    folder = tmp_path_factory.mktemp("continuum_year")
    db, files = folder / "atlas.duckdb", folder / "files"
    done = subprocess.run([sys.executable, "-m", "atlas", "demo", "--profile", "continuum", "--db", str(db),
                           "--csv", str(files)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return db, files


def pinned(values: np.ndarray, figures: dict, shown: dict) -> tuple[list, int]:
    """The hidden figures of 1..M-1 whose largest value over the base cells (x >= 0, every shown figure's
    equation) is below M, with the number of such figures audited."""
    keys = list(shown)
    columns = [figures[k] for k in keys]
    a = sparse.csr_matrix((np.ones(sum(map(len, columns))), (np.repeat(np.arange(len(keys)), list(map(len, columns))),
                                                            np.concatenate(columns))), shape=(len(keys), len(values)))
    b = np.array([shown[k] for k in keys], float)
    assert np.allclose(a @ values, b), "every shown figure is the count of its cells"
    targets = [k for k in figures if k not in shown and 1 <= values[figures[k]].sum() < M]
    reach = sparse.csr_matrix((np.ones(sum(len(figures[k]) for k in targets)),
                               (np.repeat(np.arange(len(targets)), [len(figures[k]) for k in targets]),
                                np.concatenate([figures[k] for k in targets]))), shape=(len(targets), len(values)))
    programme = Programme(a, b)

    def witness() -> np.ndarray:
        x = programme.solution()
        assert x.min() > -1e-6 and np.abs(a @ x - b).max() < 1e-6, "a reading meets every shown figure"
        return reach @ x >= M - 1e-6

    lifted = reach @ values >= M  # the data itself, never for a small figure, but a reading all the same
    while (~lifted).sum():
        before = lifted.sum()
        programme.maximise(np.asarray(reach[~lifted].sum(axis=0)).ravel())  # many at once
        lifted |= witness()
        if lifted.sum() - before < 10:
            break
    exposed = []
    for t in np.flatnonzero(~lifted):
        if lifted[t]:
            continue
        largest, _ = programme.maximise(reach[t].toarray().ravel())  # this one alone
        if largest < M - 1e-6:
            exposed.append((targets[t], largest))
        else:
            lifted |= witness()
    return exposed, len(targets)


def test_the_boards_year_of_the_continuum_with_its_quarters_passes_an_independent_audit(continuum):
    """2025 and its four quarters, everything the board can read of them, together."""
    db_path, files = continuum
    with Atlas(db_path) as db:
        cells, others, figures, shown = year_set(db, files, 2025)
        shown |= pack_figures(db, year(2025), 4)
    values = np.concatenate([cells["n"].to_numpy(float), np.asarray(others, float)])
    exposed, audited = pinned(values, figures, shown)
    assert not exposed, exposed[:5]
    assert audited > 1000, "the year had many small hidden figures to try"
    hidden_year = [k for k in figures if k[0] == 4 and k not in shown]
    assert hidden_year and len(hidden_year) < len([k for k in figures if k[0] == 4]), "the year shows and hides"


@pytest.fixture(scope="module")
def dense(tmp_path_factory) -> Path:
    """The dense demo as the command builds it by default (150,000 referrals): its quarters hide most programs."""
    db = tmp_path_factory.mktemp("dense_year") / "atlas.duckdb"
    done = subprocess.run([sys.executable, "-m", "atlas", "demo", "--db", str(db)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return db


def test_the_dense_demo_s_year_shows_program_rows_and_passes_the_audit(dense):
    """The dense demo's latest whole year: its quarters hide most programs, yet the year shows the programs it
    safely can (each repair hides a year figure the exposed count's bound rests on, so no row is hidden for
    nothing), and the funders' audit of `test_privacy_funder` (every figure shown for the year and its
    quarters, `suppression.ranges`) passes."""
    from test_privacy_funder import audit, published

    with Atlas(dense) as db:
        last = pd.Timestamp(db.query("data_extent").iloc[0]["last_referral"]).date()
    sets = published(dense, last.year - 1)
    year_view = sets[4][1]
    quarters_hide = [int(view.programs["suppressed"].sum()) for _, view, _ in sets[:4]]
    assert min(quarters_hide) > len(year_view.programs) * 3 // 4, "the quarters hide most programs"
    assert (~year_view.programs["suppressed"]).sum() >= 100, "the year shows program rows"
    audited, _ = audit(dense, sets)
    assert audited > 100
