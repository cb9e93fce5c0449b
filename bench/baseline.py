"""Page switches in one tab, this checkout beside an earlier commit, measured in one session.

A change meant to leave speed as it was (a refactoring) is judged against the code before it, not
against figures taken on another day: the machine's speed drifts by more than the change. Both sides
serve the same cached database with the same Streamlit, driven by the same harness (bench/tab.py);
only the code behind `python -m atlas serve` differs. The runs alternate in the order A B B A (A the
earlier commit), so a machine that slows or speeds up through the session weighs on both sides alike.
Each side's figures are the median of its runs, page by page.

    python -m bench --only-tab --baseline REV --scales 1m,10m
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

from bench import tab
from bench.data import CACHE, ROOT

ROUNDS = 2  # runs per side: A B B A
WITHIN = 1.10  # a page switch may take at most 10 % longer than before


def commit(rev: str) -> str:
    """The full hash of `rev` in this repository."""
    return subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def checkout(rev: str) -> Path:
    """The tree of `rev`, written once under bench/cache/ (not a worktree: nothing in .git changes)."""
    sha = commit(rev)
    root = CACHE / f"baseline-{sha[:12]}"
    if not (root / "dashboard.py").exists():
        archive = subprocess.run(["git", "archive", "--format=tar", sha], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
    return root


def combined(runs: list):
    """The median of several runs of the same shape: numbers leaf by leaf, anything else from the first."""
    first = runs[0]
    if isinstance(first, dict):
        keys = [k for k in first if all(isinstance(r, dict) and k in r for r in runs)]
        return {k: combined([r[k] for r in runs]) for k in keys}
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        values = [r for r in runs if isinstance(r, (int, float)) and not isinstance(r, bool)]
        return statistics.median(values)
    return first


def measure(db: Path, rev: str, rounds: int = ROUNDS, log=print) -> dict:
    """Tab runs of the earlier commit (`before`) and of this checkout (`after`), alternated A B B A."""
    before_root = checkout(rev)
    runs: dict[str, list] = {"before": [], "after": []}
    order = [side for i in range(rounds) for side in (("before", "after") if i % 2 == 0 else ("after", "before"))]
    for side in order:
        log(f"  one tab, {side} ({'commit ' + commit(rev)[:7] if side == 'before' else 'this checkout'})")
        runs[side].append(tab.run(db, root=before_root if side == "before" else ROOT))
    return {"before_commit": commit(rev)[:7], "order": order, "rounds": rounds,
            "date": dt.datetime.now().isoformat(timespec="minutes"), "load": os.getloadavg(),
            "before": combined(runs["before"]), "after": combined(runs["after"]), "runs": runs}


# ------------------------------------------------------------------------------------------------
# docs/benchmarks.md: before and after, side by side
# ------------------------------------------------------------------------------------------------

MOMENTS = (("first", "first visit"), ("repeat", "repeat"), ("after_filter", "after a filter change"))


def _pair(before: dict | None, after: dict | None) -> tuple[str, bool | None]:
    if not before or not after:
        return "not drawn", None
    b, a = before["drawn_s"], after["drawn_s"]
    return f"{b:.2f} s → {a:.2f} s ({a / b:.2f}×)", a <= WITHIN * b


def table(results: dict, commit_after: str) -> list[str]:
    compared = results.get("compare")
    if not compared:
        return []
    lines = ["## Before and after the refactoring (issue 29)", "",
             f"`python -m bench --baseline REV` (`bench/baseline.py`): the one-tab tour above, served by the "
             f"earlier commit and by this one in turn, over the same database in the same session, in the order "
             f"before, after, after, before; each side's time is the median of its {ROUNDS} runs. A switch "
             f"**holds** when it takes at most {WITHIN - 1:.0%} longer than before. The one-tab tables above are "
             f"the after side of the same runs.", ""]
    for label, run in compared.items():
        if "error" in run:
            lines += [f"### {tab.NAMES.get(label, label)} referrals: not compared ({run['error'][:200]})", ""]
            continue
        before, after = run["before"], run["after"]
        floors = (before.get("floor", {}).get("switch_s") or 0, after.get("floor", {}).get("switch_s") or 0)
        lines += [f"### {tab.NAMES.get(label, label)} referrals (measured {run['date']}: commit "
                  f"{run['before_commit']} before, {commit_after} after; 1-minute load {run['load'][0]:.2f})", "",
                  f"Floor page switch in the same runs: {floors[0]:.2f} s before, {floors[1]:.2f} s after.", "",
                  "| audience | page | " + " | ".join(name for _, name in MOMENTS) + " | holds |",
                  "|---|---|---|---|---|---|"]
        for audience in tab.AUDIENCES:
            b, a = before.get(audience), after.get(audience)
            if not b or not a or "error" in b or "error" in a:
                lines.append(f"| {audience} | — | failed: {str((b or {}).get('error') or (a or {}).get('error'))[:120]}"
                             " | | | |")
                continue
            for page in a["first"]:
                cells = [_pair(b[moment].get(page), a[moment].get(page)) for moment, _ in MOMENTS]
                holds = all(ok for _, ok in cells)
                lines.append(f"| {audience} | {tab.PAGES[page]} | " + " | ".join(text for text, _ in cells)
                             + f" | {'yes' if holds else 'no'} |")
        lines.append("")
    return lines
