"""Where things are and what the deployment configured: database path, HMAC key, small-cell threshold.

Settings come from the environment first, then the secrets file (`.streamlit/secrets.toml`, the file
Streamlit reads for secrets, kept out of git; `$ATLAS_SECRETS` names another one, which
`python -m atlas serve` also hands to Streamlit), then defaults.
The operations' settings live in tables of that file (`[smtp]`, `[delivery]`, `[refresh]`: see
docs/operations.md), each one also from `$ATLAS_<TABLE>_<KEY>` (`setting`); their records live beside the
database (`refresh_log`, `delivery_log`).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "atlas.duckdb"
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"
DEFAULT_MIN_CELL = 11  # the smallest count that may be shown outside director views
DEFAULT_QUERY_MEMORY = "800MB"  # DuckDB's working memory for the dashboard's queries; beyond it, it spills to disk

KEY_HELP = (
    "Client ids are pseudonymised with a keyed HMAC, and no key is set. Set one, keep it secret and "
    "keep it the same for every import (the pseudonyms of two imports only link under the same key):\n"
    '  export ATLAS_HMAC_KEY="$(python -c \'import secrets; print(secrets.token_hex(32))\')"\n'
    "or put  atlas_hmac_key = \"<at least 32 characters>\"  in .streamlit/secrets.toml"
)


class ConfigError(RuntimeError):
    """The deployment lacks a setting it needs; the message says how to set it."""


def secrets_file() -> Path:
    """The secrets file: $ATLAS_SECRETS, else .streamlit/secrets.toml beside the app."""
    return Path(os.environ.get("ATLAS_SECRETS") or SECRETS_FILE)


def _secrets() -> dict:
    path = secrets_file()
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def database_path() -> Path:
    """The database every command and the app use: $ATLAS_DB, else data/atlas.duckdb."""
    return Path(os.environ.get("ATLAS_DB") or DEFAULT_DB)


def mappings_folder(database: str | Path | None = None) -> Path:
    """Where the Data page keeps the column mappings people save for next month: beside the database
    (`database`, else the configured one)."""
    return Path(database or database_path()).parent / "mappings"


def refresh_log(database: str | Path | None = None) -> Path:
    """The record of the inbox refreshes of `database` (else the configured one), beside it: one JSON line
    a refresh. Kept outside the database file, because a replace starts the database's own import log
    again and a failed refresh must be recorded without touching the database at all."""
    database = Path(database or database_path())
    return database.with_name(f"{database.stem}.refreshes.jsonl")


def delivery_log(database: str | Path | None = None) -> Path:
    """The record of the packs delivered by e-mail from `database` (else the configured one), beside it."""
    database = Path(database or database_path())
    return database.with_name(f"{database.stem}.deliveries.jsonl")


def section(name: str) -> dict:
    """A table of the secrets file (`[smtp]`, `[delivery]`, `[refresh]`), empty when it has none."""
    value = _secrets().get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] in {secrets_file()} must be a table, not {value!r}")
    return value


def setting(table: str, key: str, default=None):
    """One setting of a secrets-file table: $ATLAS_<TABLE>_<KEY> first (so a deployment can keep a password
    out of the file), then `key` in `[table]`, else `default`."""
    env = os.environ.get(f"ATLAS_{table}_{key}".upper())
    if env is not None and env != "":
        return env
    value = section(table).get(key)
    return default if value is None else value


def hmac_key(required: bool = True) -> bytes | None:
    """The pseudonymisation key: $ATLAS_HMAC_KEY, else `atlas_hmac_key` in .streamlit/secrets.toml."""
    key = os.environ.get("ATLAS_HMAC_KEY") or _secrets().get("atlas_hmac_key")
    if not key:
        if required:
            raise ConfigError(KEY_HELP)
        return None
    if len(key) < 32:
        raise ConfigError("The HMAC key is too short (at least 32 characters).\n" + KEY_HELP)
    return key.encode("utf-8")


def min_cell() -> int:
    """Counts below this are suppressed outside director views ($ATLAS_MIN_CELL or secrets `min_cell`)."""
    value = os.environ.get("ATLAS_MIN_CELL") or _secrets().get("min_cell") or DEFAULT_MIN_CELL
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"min_cell must be a whole number, not {value!r}") from None
    if not 2 <= n <= 100:
        raise ConfigError(f"min_cell must be between 2 and 100, not {n}")
    return n


def query_memory() -> str:
    """How much memory DuckDB may hold for the dashboard's queries and its cache of the file's blocks
    ($ATLAS_QUERY_MEMORY or secrets `query_memory`, e.g. 800MB or 2GB): a bigger query spills to a
    temporary directory instead, so the server's memory stays bounded however large the data."""
    value = str(os.environ.get("ATLAS_QUERY_MEMORY") or _secrets().get("query_memory") or DEFAULT_QUERY_MEMORY)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(MB|GB|MiB|GiB)\s*", value, flags=re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"query_memory must be an amount such as 800MB or 2GB, not {value!r}")
    amount, unit = float(match.group(1)), match.group(2).upper().replace("I", "i")
    if amount * (1024 if unit.startswith("G") else 1) < 100:
        raise ConfigError(f"query_memory must be at least 100MB, not {value!r}")
    return f"{match.group(1)}{unit}"


def auth_configured() -> bool:
    """Whether a sign-in provider is configured (an `[auth]` section in the secrets file)."""
    return bool(_secrets().get("auth"))


def role_mapping() -> dict:
    """Who gets which role: $ATLAS_ROLES (`who=role; group:NAME=role+role`), else the `[atlas_roles]`
    table of the secrets file (`"ana@example.org" = "director"`, `"group:trustees" = ["board"]`)."""
    from atlas import audience

    env = os.environ.get("ATLAS_ROLES")
    if env:
        return audience.parse_env(env)
    mapping = dict(_secrets().get("atlas_roles") or {})
    audience.check_mapping(mapping)
    return mapping


def local_roles() -> tuple[str, ...]:
    """The roles of the single-user session when no sign-in is configured ($ATLAS_LOCAL_ROLE or secrets
    `local_role`; default director). A kiosk showing the board's view sets it to board; `board+funder`
    (or a list in the secrets file) gives what the two roles share, as for a signed-in person."""
    from atlas import audience

    value = os.environ.get("ATLAS_LOCAL_ROLE") or _secrets().get("local_role") or "director"
    names = value.split("+") if isinstance(value, str) else list(value)
    try:
        roles = {audience.Role(str(name).strip().lower()).value for name in names}
    except ValueError:
        raise ConfigError(f"local_role must be director, board or funder (or roles joined by +, such as "
                          f"board+funder), not {value!r}") from None
    return tuple(sorted(roles))


REPORTING_PERIODS = ("quarter", "year")


def reporting_period() -> str:
    """The period length the deliveries send (`python -m atlas deliver`: the last whole quarter, or the
    last whole year) and the command line's board pack takes ($ATLAS_REPORTING_PERIOD or secrets
    `reporting_period`: quarter (default) or year). Board and funder views choose among whole quarters
    and whole years whatever it says: the two are protected together (atlas.views.published)."""
    value = str(os.environ.get("ATLAS_REPORTING_PERIOD") or _secrets().get("reporting_period") or "quarter")
    if value.strip().lower() not in REPORTING_PERIODS:
        raise ConfigError(f"reporting_period must be quarter or year, not {value!r}")
    return value.strip().lower()
