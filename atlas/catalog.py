"""Named queries: SQL files in `queries/`, each documented by its own header.

Every metric is one `queries/NAME.sql` file holding one statement. Its header says what it returns
and which parameters it takes, in a form both people and this module read::

    -- name: referral_funnel
    -- purpose: How many referrals in the period reached each stage.
    -- grain: one row per stage (referred, accepted, started, completed, declined, pending)
    -- params:
    --   start date: first day of the period, inclusive; empty = from the first referral
    --   stall_days int = 14: days a pending referral may wait before it counts as stalled

Parameters are always bound (`$start`), never spliced into the text. `bind()` checks names, turns
strings (from the command line or a URL) into typed values and fills defaults, so callers get a
clear error for an unknown query or parameter instead of a database traceback.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
MODEL_DIR = QUERIES_DIR / "model"
ROLLUPS_DIR = QUERIES_DIR / "rollups"
INGEST_DIR = QUERIES_DIR / "ingest"
SURVEY_DIR = QUERIES_DIR / "survey"  # the survey's scores: named queries over the answers, attached as `survey`

_PARAM_LINE = re.compile(r"^--\s+(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>\w+)(?:\s*=\s*(?P<default>[^:]+?))?\s*:\s*(?P<doc>.*)$")
_FIELD_LINE = re.compile(r"^--\s*(?P<key>name|purpose|grain|params):\s*(?P<value>.*)$")
_BOUND = re.compile(r"\$([a-z_][a-z0-9_]*)")


class QueryError(ValueError):
    """A named query or one of its parameters was asked for wrongly; the message says how."""


def _parse_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _parse_timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _existing_file(text: str) -> str:
    """A file a query reads (a log kept beside the database): it must exist, so a wrong or hostile value is
    refused by name rather than met by the database as a path to open."""
    if not Path(text).exists() or Path(text).is_dir():
        raise ValueError(text)
    return text


_CONVERT = {
    "date": (_parse_date, dt.date, "a date YYYY-MM-DD"),
    "timestamp": (_parse_timestamp, dt.datetime, "a timestamp YYYY-MM-DD[ HH:MM[:SS]]"),
    "text": (str, str, "text"),
    "file": (_existing_file, (), "the path of an existing file"),
    "int": (int, int, "a whole number"),
    "number": (float, (int, float), "a number"),
}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    doc: str

    def convert(self, value: Any) -> Any:
        """The value as the database should receive it; strings are parsed by the declared type."""
        if value is None or (isinstance(value, str) and value.strip() in ("", "null", "all")):
            return self.default
        parse, accepted, described = _CONVERT[self.type]
        if self.type == "date" and isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, accepted) and not (self.type == "int" and isinstance(value, bool)):
            return value
        if self.type == "timestamp" and isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time())
        try:
            return parse(str(value).strip())
        except ValueError:
            raise QueryError(f"parameter {self.name!r} must be {described}, not {value!r}") from None


@dataclass(frozen=True)
class NamedQuery:
    name: str
    purpose: str
    grain: str
    params: tuple[Param, ...]
    sql: str
    path: Path

    def bind(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Typed values for every declared parameter (defaults filled); unknown names are refused."""
        values = dict(values or {})
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise QueryError(
                f"query {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"it takes: {', '.join(known) or 'none'}"
            )
        return {name: p.convert(values.get(name)) for name, p in known.items()}

    def describe(self) -> str:
        lines = [f"{self.name}: {self.purpose}", f"  grain: {self.grain}"]
        for p in self.params:
            default = "" if p.default is None else f" = {p.default}"
            lines.append(f"  --param {p.name}=<{p.type}>{default}  {p.doc}")
        return "\n".join(lines)


def parse_header(path: Path) -> NamedQuery:
    """Read a named query's file; the header must name it after the file and declare every $param."""
    sql = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    params: list[Param] = []
    in_params = False
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        field = _FIELD_LINE.match(line)
        if field:
            fields[field["key"]] = field["value"].strip()
            in_params = field["key"] == "params"
            continue
        param = _PARAM_LINE.match(line) if in_params else None
        if param:
            ptype = param["type"]
            if ptype not in _CONVERT:
                raise QueryError(f"{path.name}: parameter {param['name']!r} has unknown type {ptype!r}")
            default = param["default"]
            holder = Param(param["name"], ptype, None, param["doc"].strip())
            params.append(Param(holder.name, ptype, holder.convert(default) if default else None, holder.doc))
    missing = [k for k in ("name", "purpose", "grain") if k not in fields]
    if missing:
        raise QueryError(f"{path.name}: header lacks {', '.join(missing)}")
    if fields["name"] != path.stem:
        raise QueryError(f"{path.name}: header names it {fields['name']!r}, not {path.stem!r}")
    declared = {p.name for p in params}
    used = set(_BOUND.findall(sql))
    if declared != used:
        raise QueryError(
            f"{path.name}: declared parameters {sorted(declared)} differ from those used {sorted(used)}"
        )
    return NamedQuery(fields["name"], fields["purpose"], fields["grain"], tuple(params), sql, path)


@cache
def catalog(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every named query in `directory` (and, for the catalog's own folder, the survey's in `survey/`), by name."""
    paths = sorted(directory.glob("*.sql"))
    if directory == QUERIES_DIR:
        paths += sorted(SURVEY_DIR.glob("*.sql"))
    return {q.name: q for q in map(parse_header, paths)}


def get(name: str) -> NamedQuery:
    queries = catalog()
    if name not in queries:
        close = difflib.get_close_matches(name, list(queries), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else " Run `python -m atlas queries` to list them."
        raise QueryError(f"there is no query named {name!r}.{hint}")
    return queries[name]


def model_statements(directory: Path = MODEL_DIR) -> list[tuple[str, str]]:
    """The statements that build the data model, in file order: (file name, sql)."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.sql"))]


def rollup_statements(directory: Path = ROLLUPS_DIR) -> list[tuple[str, str]]:
    """The statements that fill the rollup tables once every stored table has its rows: (file name, sql)."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.sql"))]


def statement_in(directory: Path, name: str, what: str) -> str:
    """The statement `directory/NAME.sql` (a store's or the importer's statements, which are not named queries);
    a name outside the folder or missing is a QueryError saying it is no `what` statement."""
    path = directory / f"{name}.sql"
    if not path.is_file() or path.parent != directory:
        raise QueryError(f"no {what} statement {name!r}")
    return path.read_text(encoding="utf-8")


def ingest_statement(name: str, directory: Path = INGEST_DIR) -> str:
    """A statement the importer runs (queries/ingest/NAME.sql): the pseudonym macro and the inserts that use it."""
    return statement_in(directory, name, "import")


def model_fingerprint(model: Path = MODEL_DIR, rollups: Path = ROLLUPS_DIR) -> str:
    """A fingerprint of the data model: changes whenever any statement in queries/model or queries/rollups
    changes."""
    digest = hashlib.sha256()
    for name, sql in [*model_statements(model), *rollup_statements(rollups)]:
        digest.update(name.encode())
        digest.update(sql.encode())
    return digest.hexdigest()[:16]
