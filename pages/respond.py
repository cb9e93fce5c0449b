"""Partnership survey — the respondent's form at a member's own link (BASE/respond?t=TOKEN): that member's
survey and nothing else. The entrypoint routes a survey link here before sign-in (atlas/app/survey_form.py)."""

from atlas.app import survey_form

survey_form.render()
