"""The Need vs capacity page's words (presenting layer): a cell's name, the line of figures of the cell
chosen in the gap grid, whether the two signals of scarcity agree, the findings at the top of the page and
the months a window spans. Names from the data are Markdown-escaped.
"""

from __future__ import annotations

import pandas as pd

from atlas import escape, formats
from atlas.vocab import label as service_label


def cell_name(region: str, service: str) -> str:
    return f"{region} · {service_label(service).lower()}"


def _percent(value) -> str:
    return formats.percent(value)


def cell_figures(gaps: pd.DataFrame, region: str, service: str) -> str | None:
    """The figures of one cell of the gap grid, as a line of Markdown: its need, slots and referrals, the
    unmet need, the months short and the utilization."""
    row = gaps[(gaps["region"] == region) & (gaps["service_type"] == service)]
    if row.empty:
        return None
    row = row.iloc[0]
    line = (f"**{escape.markdown(cell_name(region, service))}**: {row['need']:,} people in need, "
            f"{row['capacity']:,} slots and {row['demand']:,} referrals; unmet need {row['unmet_need']:,} "
            f"({_percent(row['unmet_share'])} of need), short in {row['short_months']} of {row['months']} months; "
            f"utilization {_percent(row['utilization'])} (referrals per slot).")
    if bool(row["no_slots"]):
        line += " No slots in this region: clients may be served in another."
    return line


def agreement(both: pd.DataFrame, min_declined: int = 10) -> str | None:
    """Whether the two signals agree: of the cells whose referrals exceeded their slots, how many also
    declined a larger share for 'no capacity' than the network; and which cells (with at least
    `min_declined` declines) often declined for 'no capacity' although their slots were not full.
    Names are Markdown-escaped."""
    declined = both["declined"].sum()
    if not declined:
        return None
    network = both["no_capacity"].sum() / declined
    full = both[(both["utilization"] > 1) & (both["declined"] > 0)]
    agree = full[full["no_capacity_share"] > network]
    text = ""
    if len(full):
        text = (f"Of the {len(full):,} region·services whose referrals exceeded their slots, {len(agree):,} also "
                f"declined a larger share for 'no capacity' than the network ({formats.percent(network)} of declines).")
    odd = both[(both["utilization"] <= 1) & (both["declined"] >= min_declined)
               & (both["no_capacity_share"] >= 2 * network)].sort_values("no_capacity", ascending=False)
    if len(odd):
        names = ", ".join(
            f"**{escape.markdown(cell_name(r, s))}** ({f'over its slots in {o:,} of {m:,} months' if o else 'never over'})"
            for r, s, o, m in zip(odd["region"], odd["service_type"], odd["over_months"], odd["months"]))
        text += (f" Others declined often for 'no capacity' although their slots were not full over the period as a "
                 f"whole: {names}. Look for peaks (winter, for shelters) or for slots on paper that are not really "
                 "available.")
    return text.strip() or None


def reading(sustained: pd.DataFrame, over: pd.DataFrame, shifts: pd.DataFrame, ranking: pd.DataFrame,
            quarter: str | None, min_referrals: int = 20) -> list[str]:
    """Plain-language findings for the top of the page (names Markdown-escaped). The fullest service
    line named is among those with at least `min_referrals` referrals, as on the Bottlenecks page."""
    lines = []
    funded = sustained[~sustained["no_slots"].astype(bool)]
    if len(funded):
        top = funded.iloc[0]
        months = int(top["window_months"])
        lines.append(
            f"**{escape.markdown(cell_name(top['region'], top['service_type']))}** has the largest sustained gap: "
            f"{formats.percent(top['unmet_share'])} of the people in need had no slot over the last {months} months "
            f"({top['need_per_slot']:.1f} people in need per slot); about {top['slots_typical']:,} more slots "
            f"a month would close it.")
    else:
        lines.append("No gap between need and slots persisted through the last months of the period.")
    if len(over):
        text = f"{len(over):,} agency service lines received more referrals than they had slots"
        judged = over[over["Referrals"] >= min_referrals]
        if len(judged):
            fullest = judged.iloc[0]
            text += (f"; the fullest with at least {min_referrals} referrals is "
                     f"**{escape.markdown(fullest['Agency'])}** ({escape.markdown(fullest['Service'].lower())}, "
                     f"{formats.percent(fullest['Utilization'])} of its slots)")
        lines.append(text + ".")
    if len(shifts):
        total = shifts["Slots a month that could move"].sum()
        first = shifts.iloc[0]
        lines.append(f"About {total:,.0f} slots a month sit spare in one region while need goes unmet in another — "
                     f"most in **{escape.markdown(first['Service'].lower())}** ({first['Slots a month that could move']:,.0f}"
                     " a month): a shift of slots, not new money.")
    if len(ranking) and quarter:
        top = ranking.iloc[0]
        text = (f"In {quarter} the gap is forecast to be largest in "
                f"**{escape.markdown(cell_name(top['region'], top['service_type']))}** "
                f"({formats.percent(top['unmet_share'])} of need unmet)")
        rising = ranking.head(10).sort_values("change", ascending=False).iloc[0]  # among the cells shown
        if rising["change"] >= 1 and (rising["region"], rising["service_type"]) != (top["region"], top["service_type"]):
            text += (f"; it grows most in **{escape.markdown(cell_name(rising['region'], rising['service_type']))}**"
                     f" (+{rising['change']:,.0f} people on the last three months)")
        lines.append(text + ".")
    return lines


def months_span(months: list) -> str | None:
    """The months from the first to the last of `months`, as "Jan–Mar 2026" (or "Nov 2025–Jan 2026")."""
    if not months:
        return None
    first, last = pd.Timestamp(months[0]), pd.Timestamp(months[-1])
    if first.year == last.year:
        return f"{first:%b}–{last:%b %Y}"
    return f"{first:%b %Y}–{last:%b %Y}"
