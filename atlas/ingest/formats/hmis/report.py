"""The report of an HMIS export read and mapped: what a coordinator needs to act on. Per file, the rows
read, deleted, left out and imported; what the referral events became; the locations not placed; the
mapping applied; and every row left out or read with a documented value, grouped by fault and listed.

Part of the HMIS format of the import side: `atlas.ingest.formats.hmis.tables` fills it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from atlas.ingest import sources
from atlas.ingest.formats.hmis.faults import AFFECTED_COLUMNS, affected_csv, by_fault
from atlas.ingest.formats.hmis.files import READ, SPEC, ExportFile


@dataclass
class Report:
    """What a coordinator needs to act on: per file, per kind of event, what was not placed, the mapping."""

    files: pd.DataFrame  # file, rows read, deleted, of a deleted record, left out, imported, becomes
    events: pd.DataFrame  # kind, events
    event_codes: pd.DataFrame  # Event code, meaning, events, treated as
    unmatched_locations: pd.DataFrame  # location (as written most often), events, why
    project_types: pd.DataFrame  # ProjectType, meaning, service type, projects
    destinations: pd.DataFrame  # Destination, project types, outcome, exits
    sectors: pd.DataFrame  # sector, agencies, from
    aliases: pd.DataFrame  # alias, ProjectID, events
    ignored: list[str]  # entries of the export that were not read
    period: str  # the export period, as read
    victim_service: int  # organizations taken as victim-service providers
    # every row left out or read with a documented value: file, row, id_column, record_id, column_name, fault,
    # action
    affected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AFFECTED_COLUMNS))

    @property
    def faults(self) -> pd.DataFrame:
        """The affected rows by file, column and fault: file, column, fault, rows, what was done."""
        return by_fault(self.affected)

    @property
    def left_out(self) -> int:
        """Rows left out, over every file (a row with two faults counts once)."""
        return int(self.files["left out"].sum()) if "left out" in self.files else 0

    def stored(self) -> pd.DataFrame:
        """The affected rows as the database keeps them (the import_left_out table)."""
        return self.affected[AFFECTED_COLUMNS].reset_index(drop=True)

    def affected_csv(self) -> bytes:
        """Every affected row as a CSV: ids and columns, never a value."""
        return affected_csv(self.affected)

    def text(self) -> str:
        """The report as plain text for the command line."""
        def table(frame: pd.DataFrame) -> str:
            if not len(frame):
                return "  (none)"
            shown = frame.copy()
            for c in shown.columns:
                if pd.api.types.is_integer_dtype(shown[c]):
                    shown[c] = shown[c].map(lambda v: f"{v:,}")
            return "\n".join("  " + line for line in shown.to_string(index=False).splitlines())

        parts = [f"HMIS export ({SPEC}), period {self.period}", "", "Files:", table(self.files)]
        if len(self.affected):
            parts += ["", f"Rows left out ({self.left_out:,}) or read with a documented value, by fault (every "
                          "row: --dropped-report FILE):", table(self.faults)]
        if self.ignored:
            parts += ["", "Not read: " + ", ".join(self.ignored)]
        parts += ["", "Events:", table(self.events), "", "Events by code:", table(self.event_codes)]
        if len(self.unmatched_locations):
            parts += ["", "Locations that name no project of the export (most frequent first): fix them in the "
                          "HMIS, or add them to [locations] in a mapping file:", table(self.unmatched_locations)]
        parts += ["", "Mapping applied:", "Project types:", table(self.project_types), "Destinations:",
                  table(self.destinations), "Sectors:", table(self.sectors)]
        if len(self.aliases):
            parts += ["Location aliases used:", table(self.aliases)]
        parts.append(f"\nVictim-service organizations (never named outside director views): {self.victim_service:,}")
        return "\n".join(parts)


_BECOMES = {"Export.csv": "the export period (capacity months)", "Organization.csv": "agencies",
            "Project.csv": "programs", "ProjectCoC.csv": "agencies' regions", "Funder.csv": "programs' funders",
            "Inventory.csv": "capacity (beds per project and month)",
            "Enrollment.csv": "who referred (the event's enrollment) and when service started",
            "Exit.csv": "outcomes (exits from Coordinated Entry are not outcomes)",
            "Event.csv": "referrals"}


def file_rows(files: dict[str, ExportFile], beside: dict[str, sources.RawTable], imported: dict[str, int]
               ) -> pd.DataFrame:
    """Per file read: rows read, deleted, of a deleted record, imported, and what it becomes."""
    file_rows = []
    for name in READ:
        f = files.get(name)
        if f is None:
            file_rows.append({"file": f"{name}.csv", "rows read": 0, "deleted": 0, "of a deleted record": 0,
                              "left out": 0, "imported": 0, "becomes": "(not in the export)" if name != "Export" else "(not in the export: period from the dates read)"})
            continue
        live_rows = int(f.live.sum())
        file_rows.append({"file": f.name, "rows read": len(f.frame), "deleted": int(f.deleted_own.sum()),
                          "of a deleted record": int(f.deleted_parent.sum()), "left out": int(f.left_out.sum()),
                          "imported": imported.get(f.name, live_rows), "becomes": _BECOMES[f.name]})
    for table, raw in beside.items():
        file_rows.append({"file": raw.file, "rows read": len(raw.frame), "deleted": 0, "of a deleted record": 0,
                          "left out": 0, "imported": len(raw.frame), "becomes": table})
    return pd.DataFrame(file_rows)
