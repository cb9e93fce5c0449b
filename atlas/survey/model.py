"""What a survey round holds, as data: a round, an answer, a link resolved, a save; and the rules an
answer keeps (the spec's ranges), shared by the form's saves and the responses file's import."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields

FREQUENCY = range(1, 6)  # 1 less than quarterly .. 5 daily
LEVEL = range(1, 6)  # Levels of Collaboration Scale: 1 networking .. 5 collaboration
RATING = range(1, 5)  # trust and value items: 1 not at all .. 4 a great deal
AGREEMENTS = ("yes", "no", "unsure")
TRUST = ("trust_reliable", "trust_mission", "trust_open")
VALUE = ("value_influence", "value_involvement", "value_resources")
REQUIRED = ("frequency", "level", "agreement")
RANGES = {"frequency": FREQUENCY, "level": LEVEL, **{name: RATING for name in (*TRUST, *VALUE)}}
ROUND_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class RoundClosed(RuntimeError):
    """The round no longer takes answers (closed, or past its closing day); the message says which."""


@dataclass(frozen=True)
class Round:
    round_id: str
    name: str
    period_start: dt.date
    period_end: dt.date
    opens_on: dt.date
    closes_on: dt.date
    closed_on: dt.date | None
    members: tuple[str, ...]

    @property
    def status(self) -> str:
        """"scheduled" before its opening day, "closed" once closed or past its closing day, else "open"."""
        return status(self, dt.date.today())

    def takes_answers(self, today: dt.date | None = None) -> bool:
        return status(self, today or dt.date.today()) == "open"


def status(round_: Round, today: dt.date) -> str:
    if round_.closed_on is not None or today > round_.closes_on:
        return "closed"
    if today < round_.opens_on:
        return "scheduled"
    return "open"


@dataclass(frozen=True)
class Answer:
    """One partner named by a respondent, with the respondent's answers about it (None: not answered)."""

    partner_agency_id: str
    frequency: int | None = None
    level: int | None = None
    agreement: str | None = None
    trust_reliable: int | None = None
    trust_mission: int | None = None
    trust_open: int | None = None
    value_influence: int | None = None
    value_involvement: int | None = None
    value_resources: int | None = None

    @property
    def complete(self) -> bool:
        """Frequency, level and agreement answered: the row counts in the figures (else it is a draft)."""
        return all(getattr(self, name) is not None for name in REQUIRED)


ANSWER_FIELDS = tuple(f.name for f in fields(Answer))


@dataclass(frozen=True)
class Invitation:
    """A link resolved: the round, the member it is for, and the partners it may name (by name)."""

    round: Round
    agency_id: str
    agency_name: str
    partners: list[tuple[str, str]]


@dataclass(frozen=True)
class SaveResult:
    """A respondent's state as committed: its complete rows, its drafts, and when it was saved."""

    round_id: str
    agency_id: str
    complete: int
    drafts: int
    named_nobody: bool
    saved_at: dt.datetime


def answer_problems(answer: Answer) -> list[tuple[str, object, str]]:
    """(field, value, rule) of every value of `answer` outside the spec's ranges."""
    found = []
    for name, allowed in RANGES.items():
        value = getattr(answer, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            found.append((name, value, f"a whole number {allowed.start}-{allowed.stop - 1}"))
    if answer.agreement is not None and answer.agreement not in AGREEMENTS:
        found.append(("agreement", answer.agreement, "one of yes, no, unsure"))
    return found
