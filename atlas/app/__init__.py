"""Streamlit glue shared by every page, and the only part of `atlas` that imports Streamlit.

Layer: the top of the package, under the pages and the entrypoint (dashboard.py). Each module holds one
concern; every page reaches the first six as `from atlas import app; app.X` (the names below):

- `cache`: the database seam of the server (cached connection, queries and pages' views);
- `errors`: a configuration mistake or an unreadable database, explained on the page;
- `signin`: who is looking, and the check at the top of every page;
- `sidebar`: the shared filters and the board pack's period;
- `widgets`: tables, work lists, charts, the map, progress, folded sections;
- `prefetch`: slow imports and other pages' first views, built ahead when the entrypoint asks.

The Data page alone imports its own: `column_mapper` (the column mapping's rules, without Streamlit),
`mapping_form` (its widgets), `upload_report` (the report of the files checked) and `refreshes` (the last
refresh from the inbox). The respondent's form of a survey round, `survey_form`, is imported by the entrypoint
(which routes a survey link to it before sign-in) and by its page, pages/respond.py.
"""

from atlas.app.cache import (
    BUILDERS,
    CachedAtlas,
    database,
    database_or_none,
    has_database,
    require_database,
    unreadable_database,
    view,
)
from atlas.app.cache import cached_view as _view  # bench/worker.py clears it between its warm runs
from atlas.app.errors import configured, replace_hint
from atlas.app.prefetch import default_views, prepare_ahead, warm_up
from atlas.app.sidebar import DEFAULT_PERIOD, board_pack, current_filters, sidebar_filters
from atlas.app.signin import current_audience, page_audience, sign_in_required, viewer
from atlas.app.widgets import (
    LIST_ROWS,
    chart,
    folded,
    keep_choices,
    missing_data,
    network_map,
    pin_key_column,
    progress_bar,
    sections,
    table,
    work_list,
)

__all__ = [
    "BUILDERS", "DEFAULT_PERIOD", "LIST_ROWS", "CachedAtlas", "_view", "board_pack", "chart",
    "configured", "current_audience", "current_filters", "database", "database_or_none", "default_views",
    "folded", "has_database", "keep_choices", "missing_data", "network_map", "page_audience", "pin_key_column",
    "prepare_ahead", "progress_bar", "replace_hint", "require_database", "sections", "sidebar_filters",
    "sign_in_required", "table", "unreadable_database", "view", "viewer", "warm_up", "work_list",
]
