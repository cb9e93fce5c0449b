"""The Need vs capacity page's gaps (computing layer): pure functions over the `need_gaps`,
`need_vs_capacity` and `capacity_declines` rows, with no figure and no query.

The gap of a region and service is measured by the **share of need unmet**: the people in need beyond the
slots on offer, month by month, over the people in need. Gaps are ranked by the lower end of that share's
95 % Wilson interval (`unmet_share_low`), so that four people out of twelve do not outrank a hundred out of
a hundred and forty. Cells with no slots at all in the region are kept apart: there is no program there to
add slots to (clients may be referred to another region), and their 100 % on a handful of people would hide
the gaps that funding can close.
"""

from __future__ import annotations

import pandas as pd

from atlas.vocab import label as service_label


def axis_order(gaps: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Regions and service types, each ordered by its largest gap (`unmet_share_low`, cells with slots)."""
    scored = gaps.assign(score=gaps["unmet_share_low"].where(~gaps["no_slots"].astype(bool)).fillna(-1))
    regions = scored.groupby("region")["score"].max().sort_values(ascending=False, kind="stable")
    services = scored.groupby("service_type")["score"].max().sort_values(ascending=False, kind="stable")
    return regions.index.tolist(), services.index.tolist()


def chosen_cell(gaps: pd.DataFrame, regions: list[str], services: list[str], region: str | None,
                service: str | None) -> tuple[str | None, str | None]:
    """The cell the charts follow: the one asked for where it is within reach, else the largest gap with
    slots (else the first cell)."""
    ranked = gaps[~gaps["no_slots"].astype(bool)]
    default = ranked.iloc[0] if len(ranked) else (gaps.iloc[0] if len(gaps) else None)
    if region not in regions:
        region = default["region"] if default is not None else None
    if service not in services:
        service = default["service_type"] if default is not None else None
    return region, service


def filled_cell(cell: pd.DataFrame) -> pd.DataFrame:
    """One cell's `need_vs_capacity` rows with every month from the first to the last (missing = 0)."""
    if cell.empty:
        return cell
    months = pd.date_range(cell["month"].min(), cell["month"].max(), freq="MS")
    out = cell.set_index("month").reindex(months)
    for column in ("need", "demand", "capacity", "unmet_need"):
        out[column] = out[column].fillna(0).astype("int64")
    out["region"], out["service_type"] = cell["region"].iloc[0], cell["service_type"].iloc[0]
    return out.rename_axis("month").reset_index()


def signals(declines: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """No-capacity declines (capacity_declines) beside utilization (need_gaps), by region and service,
    most no-capacity declines first."""
    both = declines.merge(gaps[["region", "service_type", "utilization", "capacity", "over_months", "months"]],
                          how="left",
                          on=["region", "service_type"])
    both["service"] = both["service_type"].map(service_label)
    return both.sort_values(["no_capacity", "no_capacity_share"], ascending=False, ignore_index=True)


def unrecorded(lines: pd.DataFrame) -> int:
    """Agency service lines with referrals and no slots recorded (`service_line_utilization`): their
    capacity is unknown, so they are left out of the lines over capacity."""
    return int(((lines["slots"] == 0) & (lines["referrals"] > 0)).sum())
