"""The import contract, as data.

One place describes every table a community can load: its columns, their types, which are
required, the allowed values of enumerations, and the cross-row rules (uniqueness, references,
ordering). The validator, the demo writer, the templates and the docs all read from here, so the
contract is stated once.
"""

from __future__ import annotations

from dataclasses import dataclass

from atlas.vocab import DECLINE_REASONS, OUTCOMES, PARTNERSHIP_KINDS, SECTORS, SERVICE_TYPES

# Column types. "timestamp" is ISO YYYY-MM-DD[ HH:MM[:SS]] (also accepted with a "T"), local time;
# "date" is YYYY-MM-DD; "month" is YYYY-MM; "id" and "text" are strings (ids keep leading zeros).
TYPES = ("id", "text", "enum", "bool", "int", "date", "month", "timestamp")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True  # False: the column may be absent, and its cells may be empty
    values: tuple[str, ...] = ()  # allowed values for type "enum"
    min: int | None = None  # inclusive bounds for type "int"
    max: int | None = None
    sentinels: tuple[int, ...] = ()  # placeholder values that are errors, not data (999, -1, ...)
    pseudonymise: bool = False  # replaced by a keyed HMAC at import; the raw value is never stored
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    mandatory: bool = False  # the file must be present in every import
    key: tuple[str, ...] = ()  # unique key (rows matched by it on append)
    doc: str = ""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


@dataclass(frozen=True)
class Reference:
    """`table.column` must name an existing `target_table.target_column`."""

    table: str
    column: str
    target_table: str
    target_column: str


@dataclass(frozen=True)
class Order:
    """`later` must not be before `earlier` in the same row (when both are set)."""

    table: str
    earlier: str
    later: str


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "agencies",
            (
                Column("agency_id", "id", doc="Unique identifier of the agency."),
                Column("name", "text", doc="Name shown on pages and maps."),
                Column("sector", "enum", values=SECTORS, doc="Which part of the community it belongs to."),
                Column("region", "text", doc="District, county or neighbourhood it serves."),
                Column("is_victim_service", "bool", required=False,
                       doc="true for domestic-violence / victim-service providers: never named outside director views."),
            ),
            mandatory=True,
            key=("agency_id",),
            doc="One row per agency in the network.",
        ),
        Table(
            "programs",
            (
                Column("program_id", "id"),
                Column("agency_id", "id", doc="The agency that runs the program."),
                Column("name", "text"),
                Column("service_type", "enum", values=SERVICE_TYPES),
                Column("funder", "text", required=False, doc="Who funds it (for funder views)."),
            ),
            key=("program_id",),
            doc="One row per program (a service line an agency runs).",
        ),
        Table(
            "partnerships",
            (
                Column("agency_a_id", "id"),
                Column("agency_b_id", "id"),
                Column("kind", "enum", values=PARTNERSHIP_KINDS),
                Column("instrument", "text", doc="mou, contract, referral_protocol, data_sharing, co_location, personal, ..."),
                Column("started_on", "date"),
                Column("ended_on", "date", required=False, doc="Empty = still in force."),
                Column("trust", "int", required=False, min=1, max=4, doc="Partner-survey trust rating 1-4."),
                Column("value", "int", required=False, min=1, max=4, doc="Partner-survey value rating 1-4."),
            ),
            doc="One row per declared tie between two agencies (undirected).",
        ),
        Table(
            "referrals",
            (
                Column("referral_id", "id"),
                Column("client_id", "id", pseudonymise=True, doc="Pseudonymised at import; never stored raw."),
                Column("from_agency_id", "id"),
                Column("to_agency_id", "id"),
                Column("service_type", "enum", values=SERVICE_TYPES),
                Column("referred_at", "timestamp"),
                Column("to_program_id", "id", required=False),
                Column("accepted_at", "timestamp", required=False),
                Column("declined_at", "timestamp", required=False),
                Column("decline_reason", "enum", required=False, values=DECLINE_REASONS),
                Column("started_at", "timestamp", required=False),
                Column("completed_at", "timestamp", required=False),
                Column("lead_agency_id", "id", required=False,
                       doc="The agency that holds the case, as the referrer recorded it (must exist in agencies)."),
            ),
            mandatory=True,
            key=("referral_id",),
            doc="One row per referral of one client from one agency to another.",
        ),
        Table(
            "outcomes",
            (
                Column("client_id", "id", pseudonymise=True),
                Column("agency_id", "id"),
                Column("program_id", "id", required=False),
                Column("outcome", "enum", values=OUTCOMES),
                Column("achieved_on", "date"),
            ),
            doc="One row per client exit from an agency or program, with its result.",
        ),
        Table(
            "capacity",
            (
                Column("program_id", "id"),
                Column("month", "month"),
                Column("slots", "int", min=0, sentinels=(999, 9999, 99999, 999999),
                       doc="Service slots offered that month; sentinels such as 999 or -1 are errors."),
            ),
            key=("program_id", "month"),
            doc="Service slots a program offers in a month.",
        ),
        Table(
            "needs",
            (
                Column("region", "text"),
                Column("service_type", "enum", values=SERVICE_TYPES),
                Column("month", "month"),
                Column("people_in_need", "int", min=0),
                Column("source", "text", required=False),
            ),
            doc="Assessed need by region, service type and month.",
        ),
    )
}

REFERENCES: tuple[Reference, ...] = (
    Reference("programs", "agency_id", "agencies", "agency_id"),
    Reference("partnerships", "agency_a_id", "agencies", "agency_id"),
    Reference("partnerships", "agency_b_id", "agencies", "agency_id"),
    Reference("referrals", "from_agency_id", "agencies", "agency_id"),
    Reference("referrals", "to_agency_id", "agencies", "agency_id"),
    Reference("referrals", "to_program_id", "programs", "program_id"),
    Reference("referrals", "lead_agency_id", "agencies", "agency_id"),
    Reference("outcomes", "agency_id", "agencies", "agency_id"),
    Reference("outcomes", "program_id", "programs", "program_id"),
    Reference("capacity", "program_id", "programs", "program_id"),
    Reference("needs", "region", "agencies", "region"),
)

ORDERS: tuple[Order, ...] = (
    Order("partnerships", "started_on", "ended_on"),
    Order("referrals", "referred_at", "accepted_at"),
    Order("referrals", "referred_at", "declined_at"),
    Order("referrals", "accepted_at", "started_at"),
    Order("referrals", "started_at", "completed_at"),
)

# Column names that look like a client's personal data. A file carrying one is refused: the
# dashboard must never hold it. Agencies and programs are organisations, whose own phone or address
# is not a client's, so the check covers the tables that hold client rows or could carry them.
PII_TABLES = ("partnerships", "referrals", "outcomes", "capacity", "needs")
# Matched against the lower-cased column name with spaces, dashes
# and dots turned into underscores.
PII_COLUMN_PATTERNS = (
    r"(^|_)(first|last|given|family|sur|middle|full|client|person|maiden)_?name$",
    r"^name_(first|last)$",
    r"(^|_)(dob|date_of_birth|birth_?date|birthday)$",
    r"(^|_)(ssn|social_security(_number)?|ni_?(number|no)|national_insurance(_number)?|nin)$",
    r"(^|_)(phone|telephone|mobile|cell)(_?(number|no))?$",
    r"(^|_)e_?mail(_address)?$",
    r"(^|_)(street|home|postal|mailing|client)?_?address(_line_?\d)?$",
    r"(^|_)(zip|postcode|post_code)$",
)
