"""The Survey page's views (loading layer): `build(db, round_id, rule)` reads one round's scores through the
named queries of `queries/survey/` (the directors' view: every figure, every agency named) and
`round_for(db, filters)` / `board(db, filters)` the round a period shows and the round-level figures the
board may see. `db` is anything with `.query(name, **params)`; the seam (atlas.db) reads the answers file."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from atlas.filters import Filters
from atlas.views.charts import Drawn
from atlas.views.survey import plots, tables
from atlas.views.survey.reading import guidance, previous_round

RULES = {"either": "Named by either side", "both": "Named by both sides"}
# the figures the board's view and pack carry: round-level only (spec: nothing per tie, no agency below 3 raters)
BOARD_FIGURES = ("invited", "responded", "response_rate", "ties_either", "ties_both", "reciprocity", "density",
                 "mean_trust", "mean_value")


@dataclass(frozen=True)
class SurveyView(Drawn):
    """One round's results, as the directors' Survey page shows them."""

    round: dict  # survey_rounds' row of the round
    rule: str  # "either" or "both": which ties `ties` holds
    summary: dict  # survey_summary
    ties: pd.DataFrame  # survey_ties(rule)
    agencies: pd.DataFrame  # survey_agencies
    seen_differently: pd.DataFrame  # survey_seen_differently
    agreements: pd.DataFrame  # survey_agreements (paper and mind)
    change: pd.DataFrame  # survey_change: ties gained and lost since the previous round
    trust_change: pd.DataFrame  # survey_trust_change: trust received, then and now
    previous: dict | None  # the previous round's row, when there is one
    names: dict = field(default_factory=dict)  # agency id -> name

    @property
    def answered(self) -> bool:
        return bool(self.summary.get("responded"))

    @property
    def reading(self) -> tuple[str, str]:
        """(level, sentence): what the response rate allows one to read."""
        return guidance(self.summary.get("response_rate"))

    @property
    def figures(self) -> list[tuple[str, str, str]]:
        return tables.summary_figures(self.summary)

    @cached_property
    def ties_table(self) -> pd.DataFrame:
        return tables.ties_table(self.ties, self.names)

    @cached_property
    def agencies_table(self) -> pd.DataFrame:
        return tables.agencies_table(self.agencies, self.names)

    def table(self, name: str) -> pd.DataFrame:
        """seen_differently, agreements, change or trust_change, readable."""
        return tables.readable(getattr(self, name), self.names)

    @cached_property
    def level_chart(self):
        return plots.level_chart(self.ties, self.rule)


def _names(db) -> dict:
    agencies = db.query("network_agencies")
    return dict(zip(agencies["agency_id"], agencies["name"].astype(str)))


def build(db, round_id: str, rule: str = "either") -> SurveyView:
    """The round's figures from the named queries (KeyError when there is no such round)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}")
    rounds = db.query("survey_rounds")
    row = rounds[rounds["round_id"] == round_id]
    if row.empty:
        raise KeyError(f"There is no survey round {round_id!r}.")
    summary = db.query("survey_summary", round_id=round_id)
    return SurveyView(
        round=row.iloc[0].to_dict(), rule=rule,
        summary=summary.iloc[0].to_dict() if len(summary) else {},
        ties=db.query("survey_ties", round_id=round_id, rule=rule),
        agencies=db.query("survey_agencies", round_id=round_id),
        seen_differently=db.query("survey_seen_differently", round_id=round_id),
        agreements=db.query("survey_agreements", round_id=round_id),
        change=db.query("survey_change", round_id=round_id),
        trust_change=db.query("survey_trust_change", round_id=round_id),
        previous=previous_round(rounds, round_id), names=_names(db))


def round_for(db, filters: Filters) -> dict | None:
    """The round the period shows: the latest closed round whose period overlaps it (None when there is none)."""
    found = db.query("survey_round_for_period", start=filters.start, end=filters.end)
    return None if found.empty else found.iloc[0].to_dict()


@dataclass(frozen=True)
class BoardSurvey:
    """What the board sees of the round of its period: the round's name and period and its round-level figures
    (no tie's ratings, no agency's figures, no respondent's answers)."""

    round: dict  # round_id, name, period_start, period_end
    summary: dict  # the BOARD_FIGURES of survey_summary

    @property
    def figures(self) -> list[tuple[str, str, str]]:
        return tables.summary_figures(self.summary, BOARD_FIGURES)

    @property
    def reading(self) -> str:
        return guidance(self.summary.get("response_rate"))[1]


def board(db, filters: Filters) -> BoardSurvey | None:
    """The round-level figures of the period's round for the board's view and pack; None without a round."""
    chosen = round_for(db, filters)
    if chosen is None:
        return None
    kept = {k: chosen.get(k) for k in ("round_id", "name", "period_start", "period_end")}
    return BoardSurvey(kept, round_summary(db, chosen["round_id"]))


def round_summary(db, round_id: str) -> dict:
    """The round-level figures of survey_summary that every audience may see (BOARD_FIGURES)."""
    summary = db.query("survey_summary", round_id=round_id)
    figures = summary.iloc[0].to_dict() if len(summary) else {}
    return {k: figures.get(k) for k in BOARD_FIGURES}


def period_words(row: dict) -> str:
    """A round's name and the period it describes, in words."""
    from atlas import formats

    return f"{row.get('name') or row.get('round_id')} ({formats.span(row.get('period_start'), row.get('period_end'))})"

