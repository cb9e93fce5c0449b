"""The domain's vocabulary: the sectors, service types, outcome classes and other coded values the
product speaks in, and how each reads for people.

The bottom layer: the import contract (`atlas.contract`), the import side (`atlas.ingest`) and every
view import these words from here, so a new service type or outcome is added in one place.
"""

from __future__ import annotations

SECTORS = ("government", "nonprofit", "faith", "health", "education", "business", "justice", "community")
SERVICE_TYPES = (
    "shelter", "housing", "mental_health", "substance_use", "medical", "employment", "education",
    "childcare", "transportation", "food", "legal", "income_support", "case_management", "other",
)
PARTNERSHIP_KINDS = ("formal", "informal")
DECLINE_REASONS = ("no_capacity", "not_eligible", "client_unreachable", "client_declined", "duplicate", "other")
POSITIVE_OUTCOMES = (
    "housed_permanent", "housed_temporary", "employed", "income_increased", "education_enrolled",
    "health_connected",
)
NEGATIVE_OUTCOMES = ("returned_to_homelessness", "exited_to_street")
NEUTRAL_OUTCOMES = ("exited_no_outcome", "unknown")
OUTCOMES = POSITIVE_OUTCOMES + NEGATIVE_OUTCOMES + NEUTRAL_OUTCOMES
HOUSING_OUTCOMES = ("housed_permanent", "housed_temporary")  # a positive housing exit (returns are measured from it)


def label(code: object) -> str:
    """An enum value as words for people: `mental_health` -> `Mental health` (plain text: escape it
    where it meets Markdown or HTML)."""
    text = str(code).replace("_", " ")
    return text[:1].upper() + text[1:]


# The conventional instruments of a partnership, as people write them; any other text shows as written.
INSTRUMENTS = {"mou": "MOU", "contract": "Contract", "referral_protocol": "Referral protocol",
               "data_sharing": "Data sharing", "co_location": "Co-location", "personal": "Personal"}


def instrument_label(instrument: object) -> str:
    """A partnership's instrument for people: `data_sharing` -> `Data sharing`, `mou` -> `MOU`; free text
    as written (plain text: escape it where it meets Markdown or HTML)."""
    text = instrument if isinstance(instrument, str) else ""  # None, NaN or NA: nothing written
    return INSTRUMENTS.get(text.strip().lower(), text)


def outcome_polarity(outcome: str) -> str:
    """positive, negative or neutral, as the contract classes each outcome value."""
    if outcome in POSITIVE_OUTCOMES:
        return "positive"
    return "negative" if outcome in NEGATIVE_OUTCOMES else "neutral"


def group_label(by: str, group: object) -> str:
    """The name of a group of agencies for people: a sector's code in words (`health` -> `Health`), a
    region as written (plain text: escape it where it meets Markdown or HTML)."""
    return label(group) if by == "sector" else str(group)
