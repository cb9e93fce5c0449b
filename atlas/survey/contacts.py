"""The address each member's invitation goes to: a CSV the director gives (`agency_id,email`), checked
whole, and kept with the round (never in the imported data)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from atlas.survey.model import Round

_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


class ContactsError(ValueError):
    """The contacts file has problems; `problems` lists each as (row, column, value, rule)."""

    def __init__(self, source: str, problems: list[tuple[int | None, str | None, str | None, str]]):
        self.problems = problems
        lines = [f"  row {row}, column {column}: {value!r}: {rule}" if row else f"  {rule}"
                 for row, column, value, rule in problems]
        super().__init__(f"{source} has {len(problems)} problem(s); nothing was kept:\n" + "\n".join(lines))


def contacts_from_csv(path: Path) -> dict[str, str]:
    """{agency_id: address} from a CSV with `agency_id` and `email` columns; every bad row reported."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContactsError(path.name, [(None, None, None, "the file is not UTF-8 text")]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "agency_id" not in header or "email" not in header:
        raise ContactsError(path.name, [(1, None, ",".join(header), "the header must name agency_id and email")])
    found: dict[str, str] = {}
    problems = []
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        agency, address = row.get("agency_id", ""), row.get("email", "")
        if not agency:
            problems.append((number, "agency_id", agency, "required"))
        elif agency in found:
            problems.append((number, "agency_id", agency, "the agency is listed twice"))
        if not _ADDRESS.fullmatch(address):
            problems.append((number, "email", address, "not an e-mail address (write the address alone)"))
        if agency and agency not in found:
            found[agency] = address
    if problems:
        raise ContactsError(path.name, problems)
    return found


def checked(round_: Round, contacts: dict[str, str]) -> pd.DataFrame:
    """The contacts as the store keeps them (round_id, agency_id, email); ContactsError for an address that
    is not one, or an agency that is not a member of the round."""
    problems = []
    for agency, address in contacts.items():
        if agency not in round_.members:
            problems.append((None, "agency_id", agency, f"{agency!r} is not a member of round {round_.round_id!r}"))
        if not _ADDRESS.fullmatch(str(address).strip()):
            problems.append((None, "email", address, f"{address!r} (for {agency!r}) is not an e-mail address"))
    if problems:
        raise ContactsError("the contacts", problems)
    return pd.DataFrame({"round_id": round_.round_id, "agency_id": list(contacts),
                         "email": [str(a).strip() for a in contacts.values()]}, dtype=object)
