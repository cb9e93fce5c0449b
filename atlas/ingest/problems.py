"""What an import reports: a problem, the listing of a rule's rows (the first ones listed, the rest
counted), and the report, summary and table made of the problems.

The import side's bottom layer: every reader, check and format of `atlas.ingest` builds its
problems here, so a rule's rows are listed and counted, and reported, in one way and one wording.
Each (file, column, rule) lists its first `ROWS_LISTED` rows and one more problem counts the rest
(`Problem.count`), so `summary` gives the true number of rows per rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

ROWS_LISTED = 100  # problems listed per (file, column, rule); the rest are counted
VALUE_CHARS = 80  # a problem's value is cut to this length


@dataclass(frozen=True)
class Problem:
    """One violation of the import contract, located as precisely as its rule allows."""

    file: str  # e.g. "referrals.csv"; "" when not about one file
    row: int | None  # row as in the file (header = 1); None for file- and column-level problems
    column: str | None
    value: str | None  # the offending value as written, cut to VALUE_CHARS
    rule: str  # stable rule id, e.g. "timestamp_format"
    message: str  # what is wrong and how to fix it
    severity: str = "error"  # or "warning"
    count: int = 1  # rows this problem stands for: >1 only on the "… and N more" line of a group

    def __post_init__(self):
        if self.value is not None and len(self.value) > VALUE_CHARS:
            object.__setattr__(self, "value", self.value[: VALUE_CHARS - 1] + "…")


def at_rows(file: str, column: str | None, rule: str, rows: np.ndarray, values: pd.Series | None,
            message: str | Callable[[int], str], severity: str = "error", *, limit: int = ROWS_LISTED
            ) -> list[Problem]:
    """The problems of the data rows `rows` (a boolean mask over a table's rows, or their 0-based
    positions, so file row = position + 2): the first `limit` listed, the rest counted on one
    "… and N more" line.

    `values` gives each row's value (None: no value shown) and `message` is the same for every row or a
    function of the position; both are only looked at for the listed rows.
    """
    positions = np.flatnonzero(rows) if rows.dtype == bool else rows
    listed = [Problem(file, int(p) + 2, column, None if values is None else shown(values.iat[p]), rule,
                      message(int(p)) if callable(message) else message, severity) for p in positions[:limit]]
    if len(positions) > limit:
        more = len(positions) - limit
        listed.append(Problem(file, None, column, None, rule, _more(more, len(positions)), severity, count=more))
    return listed


def shown(value) -> str | None:
    """A cell as text for a problem: None when missing, a timestamp as YYYY-MM-DD[ HH:MM:SS]."""
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d" if value == value.normalize() else "%Y-%m-%d %H:%M:%S")
    return str(value)


_MORE = "… and "


def _more(more: int, total: int) -> str:
    """The message of the line that counts a rule's rows not listed."""
    return f"{_MORE}{more:,} more rows with this problem ({total:,} in all)."


def shifted(problems: Iterable[Problem], rows: int) -> list[Problem]:
    """Problems of a batch, their rows moved down by the `rows` of the file before the batch."""
    return [dataclasses.replace(p, row=p.row + rows) if p.row is not None and rows else p for p in problems]


def combine(problems: Iterable[Problem], limit: int = ROWS_LISTED) -> list[Problem]:
    """The problems of a file checked in batches, as if it had been checked whole: each (file, column,
    rule) lists its first `limit` rows and counts the rest on one "… and N more" line, and a problem
    of the file or a column (the same in every batch) is given once. Batches in file order."""
    out: list[Problem] = []
    seen: set[Problem] = set()
    groups: dict[tuple, list[int]] = {}  # (file, column, rule, severity) -> [rows listed, rows more]
    for p in problems:
        more = p.row is None and p.message.startswith(_MORE)
        if p.row is None and not more:
            if p not in seen:
                seen.add(p)
                out.append(p)
            continue
        group = groups.setdefault((p.file, p.column, p.rule, p.severity), [0, 0])
        if more:
            group[1] += p.count
        elif group[0] < limit:
            group[0] += 1
            out.append(p)
        else:
            group[1] += 1
    for (file, column, rule, severity), (listed, more) in groups.items():
        if more:
            out.append(Problem(file, None, column, None, rule, _more(more, listed + more), severity, count=more))
    return out


def summary(problems: Iterable[Problem]) -> pd.DataFrame:
    """Rows per rule (true counts, truncated lists included): columns rule, severity, count."""
    frame = pd.DataFrame([(p.rule, p.severity, p.count) for p in problems],
                         columns=["rule", "severity", "count"])
    counts = frame.groupby(["rule", "severity"], as_index=False)["count"].sum()
    counts["is_warning"] = counts["severity"] == "warning"
    return (counts.sort_values(["is_warning", "count", "rule"], ascending=[True, False, True])
            .drop(columns="is_warning").reset_index(drop=True))


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """The problems as a table (file, row, column, value, rule, message, severity) sorted by file
    and row: each file's file- and column-level problems first, its "… and N more" lines last."""
    rows = [(p.file, p.row, p.column, p.value, p.rule, p.message, p.severity)
            for p in sorted(problems, key=_place)]
    frame = pd.DataFrame(rows, columns=["file", "row", "column", "value", "rule", "message", "severity"])
    frame["row"] = frame["row"].astype("Int64")
    return frame


def format_report(problems: Iterable[Problem], limit: int = 200) -> str:
    """A plain-text report: the number of rows per rule, then up to `limit` problem lines."""
    problems = sorted(problems, key=_place)
    if not problems:
        return "No problems: the files follow the import contract."
    counts = summary(problems)
    total = counts.groupby("severity")["count"].sum()
    errors, warnings = int(total.get("error", 0)), int(total.get("warning", 0))
    lines = [f"{errors:,} {'error' if errors == 1 else 'errors'}, "
             f"{warnings:,} {'warning' if warnings == 1 else 'warnings'}"]
    width = max(len(rule) for rule in counts["rule"])
    for rule, severity, count in counts.itertuples(index=False):
        lines.append(f"  {rule:<{width}}  {count:>11,}" + ("  (warning)" if severity == "warning" else ""))
    lines.append("")
    lines += [_line(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"… {len(problems) - limit:,} more lines not shown.")
    return "\n".join(lines)


def _line(p: Problem) -> str:
    """One problem as a report line: where, the value, then the message."""
    where = p.file or "import"
    if p.row is not None:
        where += f" row {p.row}"
    if p.column is not None:
        where += f", column {p.column or '(no name)'}"
    value = f": value {p.value!r}" if p.value is not None else ""
    severity = "warning: " if p.severity == "warning" else ""
    return f"{where}{value} — {severity}{p.message}"


def _place(p: Problem) -> tuple:
    """Sort key: by file; file- and column-level problems, then rows in order, then "… and N more"."""
    group = 2 if p.count > 1 else 0 if p.row is None else 1
    return (p.file, group, p.row or 0)
