"""The directors' Survey page (issue 32): one partnership-survey round's progress and results, and the
round-level figures the board's view and pack carry. Pure (no Streamlit); `db` is anything with
`.query(name, **params)`, every figure read from the named queries of `queries/survey/`.

* loading — `load`: `build(db, round_id, rule)` (`SurveyView`), `round_for(db, filters)` (the latest closed
  round whose period overlaps the period shown) and `board(db, filters)` (`BoardSurvey`);
* computing — `reading`: what the response rate allows one to read, the round before, names on ids;
* presenting — `tables` (headings in words, the summary's figures, progress and links) and `plots`.

Callers use `from atlas.views import survey` and `survey.X`."""

from atlas.views.survey.load import (
    BOARD_FIGURES,
    RULES,
    BoardSurvey,
    SurveyView,
    board,
    build,
    period_words,
    round_for,
)
from atlas.views.survey.plots import LEVELS, level_chart
from atlas.views.survey.reading import INDIVIDUAL, PATTERNS, guidance, named, previous_round
from atlas.views.survey.tables import (
    SUMMARY,
    agencies_table,
    figure,
    progress_tables,
    readable,
    summary_figures,
    ties_table,
)

__all__ = [
    "BOARD_FIGURES", "INDIVIDUAL", "LEVELS", "PATTERNS", "RULES", "SUMMARY", "BoardSurvey", "SurveyView",
    "agencies_table", "board", "build", "figure", "guidance", "level_chart", "named",
    "period_words", "previous_round", "progress_tables", "readable", "round_for",
    "summary_figures", "ties_table",
]
