"""What a page cannot show because a table was never loaded, said plainly, with the file that would add it.

An HMIS export holds no declared partnerships and no assessed need; a referral tool's export may hold no
exits or capacity. The pages still work on such data, and say at the top what is missing instead of
leaving a reader to wonder why a figure is empty or zero. Pure: the database's extent in, sentences out.
"""

from __future__ import annotations

import pandas as pd

# table -> (the extent's count of it, what it adds, what is missing without it)
_TABLES = {
    "partnerships": ("partnerships", "formal agreements and informal ties",
                     "No declared partnerships are loaded, so the dashboard cannot show agreements, informal ties, "
                     "flows without an agreement or dormant agreements: only real referral flows."),
    "needs": ("need_rows", "assessed need",
              "No assessed need is loaded, so need, unmet need and the forecast of gaps are empty: only referrals "
              "and slots are compared."),
    "capacity": ("capacity_rows", "service slots",
                 "No capacity is loaded, so slots, utilization and agencies over capacity are empty."),
    "outcomes": ("outcomes", "exits and their results", "No exits are loaded, so there are no outcomes to show."),
    "referrals": ("referrals", "referrals", "No referrals are loaded, so there are no flows, stalls or waits to show."),
}
# Which tables each page draws on (beyond agencies).
PAGES = {
    "overview": ("referrals", "partnerships", "outcomes"),
    "bottlenecks": ("referrals",),
    "need_capacity": ("needs", "capacity", "referrals"),
    "accountability": ("referrals",),
    "network": ("referrals", "partnerships"),
    "outcomes": ("outcomes",),
}
_WHERE = {
    "partnerships": "a partner survey or the list of MOUs and contracts",
    "needs": "coordinated-entry assessments, a 211 line or a community survey",
    "capacity": "each program's slots per month",
    "outcomes": "each client's exit from an agency or program",
    "referrals": "one row per referral from one agency to another",
}


def notes(extent: pd.Series, page: str) -> list[str]:
    """One sentence per table `page` uses that the database holds no row of, with the file to add."""
    out = []
    for table in PAGES.get(page, ()):
        column, _, missing = _TABLES[table]
        if not int(extent.get(column) or 0):
            out.append(f"{missing} To add them, load **{table}.csv** ({_WHERE[table]}) on the **Data** page; "
                       f"with an HMIS export, upload it beside the export's zip.")
    return out
