"""Agency ids made from agency names, for exports that name agencies rather than give their ids (a column
mapping's `[agencies]`, `atlas.ingest.formats.columns`).

An id is the name in plain ASCII (`agency_slug`): accents are dropped from their letters, not the letters
from the name, so `Café Esperança Food Pantry` is `cafe-esperanca-food-pantry`. Versions before this one
dropped every letter outside a-z (`caf-esperan-a-food-pantry`); an agency a database already holds under
such an id keeps it (`agency_id`), so the referrals, programs and partnerships stored under it stay one
agency's, whatever the next import (docs/import.md, "Map your columns": agencies named, not numbered).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection
from pathlib import Path

from atlas.db import DatabaseUnreadable
from atlas.ingest import importer

# Letters NFKD does not split into a base letter and an accent, and how an id spells them.
_SPELLED = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l",
                          "ı": "i", "ħ": "h", "ŧ": "t"})


def agency_slug(name: str) -> str:
    """A stable agency id from its name, in plain ASCII: accented letters lose only their accents, and the
    same name gives the same id next month. A name with no Latin letter or digit at all (one written in
    another script) is `agency-` and a digest of the name, so two such agencies never share an id."""
    text = unicodedata.normalize("NFKD", name.strip().lower().translate(_SPELLED))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if slug:
        return slug
    written = re.sub(r"\s+", " ", unicodedata.normalize("NFC", name)).strip().casefold()
    return f"agency-{hashlib.sha256(written.encode()).hexdigest()[:10]}" if written else "agency"


def earlier_slug(name: str) -> str:
    """The id versions before transliteration made from a name: every letter outside a-z dropped."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-") or "agency"


def agency_id(name: str, stored: Collection[str] = ()) -> str:
    """The id of the agency called `name`: its `agency_slug`, unless the database holds (`stored`) no agency
    under that id but one under the id an earlier version made from the same name (`earlier_slug`), which
    it then keeps."""
    slug = agency_slug(name)
    if slug in stored:
        return slug
    earlier = earlier_slug(name)
    return earlier if earlier in stored else slug


def stored_agency_ids(database: str | Path) -> frozenset[str]:
    """The agency ids the database at `database` holds; none when there is no database yet, or when it
    cannot be read (an import over it replaces it whole)."""
    if not Path(database).is_file():
        return frozenset()
    try:
        stored = importer.read_stored(database, ["agencies"])["agencies"]
    except DatabaseUnreadable:
        return frozenset()
    return frozenset(stored["agency_id"].dropna().astype(str))
