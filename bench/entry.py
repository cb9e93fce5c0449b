"""The AppTest script the benchmark runs: what dashboard.py does for one page, without st.navigation.

AppTest (Streamlit 1.67) does not apply the entrypoint's sidebar filters to a page reached with
switch_page (the page sees the open period), so this script establishes who is looking (the local
session's role, $ATLAS_LOCAL_ROLE: director unless the benchmark says board or funder), draws the same
shared filters for them (default: a director's last 12 months, the board's and funders' latest whole
reporting period) with the same `app.sidebar_filters` and then runs the page file ($BENCH_PAGE), as
the dashboard's navigation would. With $BENCH_PROFILE set, the run is profiled (cProfile sees only the
thread it runs in, and AppTest runs the script in a thread of its own) and the stats written there.
"""

import os

import streamlit as st

from atlas import app

app.warm_up()  # as dashboard.py: the server's one-off background loading starts before the first page


def main() -> None:
    st.set_page_config(page_title="Collaboration Atlas", layout="wide")
    viewer = app.viewer()
    st.session_state["atlas_audience"] = viewer
    db = app.require_database()
    st.session_state["atlas_filters"] = app.sidebar_filters(db, viewer)
    page = os.environ["BENCH_PAGE"]
    with open(page, encoding="utf-8") as source:
        exec(compile(source.read(), page, "exec"), {"__name__": "__main__", "__file__": page})


if os.environ.get("BENCH_PROFILE"):
    import cProfile

    profiler = cProfile.Profile()
    try:
        profiler.runcall(main)
    finally:
        profiler.dump_stats(os.environ["BENCH_PROFILE"])
else:
    main()
