"""Funders — Outcomes: positive exits by program, small numbers suppressed."""

import streamlit as st

from atlas import app, config

db = app.require_database()
filters = app.current_filters()
min_cell = config.min_cell()

st.title("Outcomes")
st.caption(f"Positive-exit rate by program with 95% intervals — {filters.describe()}.")
st.info(
    f"Counts below {min_cell}, and rates built on them, are hidden to protect the people behind them. "
    "Coming to this page: outcome mix, returns to homelessness, pathway outcomes and the funder pack."
)
table = db.query("outcomes_by_program", **filters.params_for("outcomes_by_program"), min_cell=min_cell)
st.dataframe(table, hide_index=True, width="stretch")
