"""The partnership survey (issue 32): rounds, each member's link, the answers kept beside the database,
and the responses file. Pure Python, no Streamlit: the command line, the respondent's form and the
Survey page all go through `Surveys`. The scores are named queries of `queries/survey/`.

Its names are loaded when first used, so `atlas.db` can reach `atlas.survey.store` (to attach the
answers to a query) without loading the rest, which reads the database through `atlas.db`.
"""

from __future__ import annotations

import importlib

_NAMES = {
    "Surveys": "atlas.survey.surveys",
    "Round": "atlas.survey.model",
    "Answer": "atlas.survey.model",
    "Invitation": "atlas.survey.model",
    "SaveResult": "atlas.survey.model",
    "RoundClosed": "atlas.survey.model",
    "ImportReport": "atlas.survey.responses",
    "contacts_from_csv": "atlas.survey.contacts",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name not in _NAMES:
        raise AttributeError(f"module 'atlas.survey' has no attribute {name!r}")
    return getattr(importlib.import_module(_NAMES[name]), name)
