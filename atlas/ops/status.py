"""`python -m atlas status`: one line a monitor reads, and an exit status it acts on.

    OK data_as_of=2026-11-30 data_age_days=6 last_refresh=2026-12-01T06:00:04 refresh=imported
       last_delivery=2026-10-05T07:00:12 delivered=2026-Q3 db_size=48.2MB

(on one line), starting `PROBLEM` with `problem="..."` at its end when something needs a person: the
last refresh failed (or was stopped before it finished), or the data is older than `max_age` days. The
exit status is 0 when all is well, 1 for a problem, 2 when there is no readable database at all.
Values hold no space, so `key=value` pairs split on spaces (the problem's words are quoted).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

import pandas as pd

from atlas import config
from atlas.db import Atlas, DatabaseMissing, DatabaseOutdated, DatabaseUnreadable
from atlas.ops import records

MAX_AGE = 45  # days: a monthly export, with two weeks for it to arrive


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError, ValueError):
        return True
    return True


def refresh_result(record: dict) -> str:
    """A refresh record's result, "interrupted" for one still marked running whose process is gone."""
    result = str(record.get("result") or "unknown")
    if result == "running" and record.get("host") == socket.gethostname() and not _alive(record.get("pid")):
        return "interrupted"
    return result


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 2**30:.1f}GB" if size >= 2**30 else f"{size / 2**20:.1f}MB"


def _stamp(text) -> str:
    return str(text).replace(" ", "T") if text else "never"


def _data(database: Path, today: dt.date) -> tuple[list[str], list[str], int | None, bool]:
    """The database's fields, its problems, the data's age in days (None: no data) and whether it could be
    read at all."""
    try:
        with Atlas(database) as db:
            as_of = db.query("data_extent").iloc[0]["as_of"]
    except DatabaseMissing:
        return ["database=missing"], [f"no database at {database}"], None, False
    except DatabaseOutdated:
        return ["database=outdated"], ["the database was built by another version: run atlas upgrade"], None, False
    except DatabaseUnreadable:
        return ["database=unreadable"], ["the database cannot be read: restore it from a backup"], None, False
    if pd.isna(as_of):
        return ["data_as_of=none"], ["the database holds no referrals"], None, True
    day = pd.Timestamp(as_of).date()
    age = (today - day).days
    return [f"data_as_of={day}", f"data_age_days={age}"], [], age, True


def line(database: Path, max_age: int = MAX_AGE, today: dt.date | None = None) -> tuple[int, str]:
    """The status line of `database` and the exit status."""
    database = Path(database)
    fields, problems, age, readable = _data(database, today or dt.date.today())
    if age is not None and age > max_age:
        problems.append(f"the data is {age} days old (limit {max_age})")
    refreshes = records.read(config.refresh_log(database))
    if refreshes:
        last = refreshes[-1]
        result = refresh_result(last)
        fields += [f"last_refresh={_stamp(last.get('finished_at') or last.get('started_at'))}", f"refresh={result}"]
        if result in ("failed", "interrupted"):
            problems.append(f"the last refresh {result} ({' '.join(str(last.get('entry')).split())})")
    else:
        fields.append("last_refresh=never")
    sent = [r for r in records.read(config.delivery_log(database)) if r.get("result") == "sent"]
    if sent:
        fields += [f"last_delivery={_stamp(sent[-1].get('at'))}",
                   f"delivered={str(sent[-1].get('period')).replace(' ', '-')}"]
    else:
        fields.append("last_delivery=never")
    if readable:
        fields.append(f"db_size={_size(database)}")
    state = "PROBLEM" if problems else "OK"
    text = " ".join([state, *fields]) + (' problem="' + "; ".join(problems).replace('"', "'") + '"' if problems else "")
    return (0 if not problems else 1 if readable else 2), text
