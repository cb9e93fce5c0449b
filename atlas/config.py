"""Where things are and what the deployment configured: database path, HMAC key, small-cell threshold.

Settings come from the environment first, then `.streamlit/secrets.toml` (the file Streamlit reads
for secrets, kept out of git), then defaults.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "atlas.duckdb"
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"
DEFAULT_MIN_CELL = 11  # the smallest count that may be shown outside director views

KEY_HELP = (
    "Client ids are pseudonymised with a keyed HMAC, and no key is set. Set one, keep it secret and "
    "keep it the same for every import (the pseudonyms of two imports only link under the same key):\n"
    '  export ATLAS_HMAC_KEY="$(python -c \'import secrets; print(secrets.token_hex(32))\')"\n'
    "or put  atlas_hmac_key = \"<at least 32 characters>\"  in .streamlit/secrets.toml"
)


class ConfigError(RuntimeError):
    """The deployment lacks a setting it needs; the message says how to set it."""


def _secrets() -> dict:
    path = SECRETS_FILE
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def database_path() -> Path:
    """The database every command and the app use: $ATLAS_DB, else data/atlas.duckdb."""
    return Path(os.environ.get("ATLAS_DB") or DEFAULT_DB)


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
