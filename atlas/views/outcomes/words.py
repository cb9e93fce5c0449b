"""The Funders' Outcomes page's words (presenting layer): what was hidden and why, the headline findings,
and rates, intervals and dates as the page writes them (atlas.formats). Names from the data are
Markdown-escaped.
"""

from __future__ import annotations

import datetime as dt

from atlas import escape, formats
from atlas.views import suppression
from atlas.views.outcomes.rates import NO_PROGRAM, Suppressed


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def notes(counts: Suppressed, funder: str | None) -> list[str]:
    """What was hidden and why, in plain words (no data text, so safe in Markdown and HTML)."""
    m = counts.min_cell
    lines = [f"Counts of 1 to {m - 1} people are never shown, nor rates or intervals built on them "
             f"(the threshold, {m}, is set by this deployment)."]
    if counts.programs_hidden:
        lines.append(f"{counts.programs_hidden:,} of {counts.programs:,} programs are hidden: fewer than {m} exits, "
                     f"or 1 to {m - 1} positive or other exits. They are left out of every total, rate and chart "
                     "here, so no total can be used to work them out, whichever filters are combined.")
    if counts.mix_cells_hidden:
        lines.append(f"In the outcome mix, {counts.mix_cells_hidden:,} small outcome counts inside programs are "
                     "not itemised: they appear as “outcome not shown”, and with each of them enough others "
                     "that no program's hidden outcomes can be worked out from its totals.")
    if counts.trend_hidden:
        lines.append(f"{_n(counts.trend_hidden, 'quarterly figure of the trend is', 'quarterly figures of the trend are')} "
                     "hidden (small, or hidden with a small one so that it cannot be worked out from the totals).")
    if counts.returns_hidden:
        lines.append(f"{_n(counts.returns_hidden, 'return-to-homelessness figure is', 'return-to-homelessness figures are')} "
                     "hidden for small numbers.")
    if counts.referrers_pooled:
        lines.append(f"{_n(counts.referrers_pooled, 'referral route', 'referral routes')} with small numbers (and, where needed, the "
                     "next smallest) are pooled into one row.")
    lines.append("Victim-service agencies are left out of this page, and as referrers are never named.")
    return lines


def set_notes(one, programs, counts: Suppressed, by: dict) -> list[str]:
    """What a whole quarter's or year's published set hides, exactly, in plain words (no data text)."""
    m = counts.min_cell
    lines = [f"Counts of 1 to {m - 1} people are never shown, nor rates or intervals built on them (the "
             f"threshold, {m}, is set by this deployment). Every figure is counted from all records; a small one "
             "is hidden, with others where needed, so that nothing published for this period, its year and the "
             "year's quarters together lets a hidden count be worked out."]
    if one.network["hidden"]:
        lines.append(f"The whole network's exits are hidden: fewer than {m}, or 1 to {m - 1} positive or other exits.")
    elif one.people_hidden:
        lines.append(f"The number of people is hidden: fewer than {m}.")
    lines.append(suppression.small_numbers_note(counts.programs_hidden, counts.programs, "programs", m, "exits"))
    alone = programs[programs["program_id"].isna()]
    if len(alone):
        hidden = int(alone["suppressed"].sum())
        lines.append(f"Exits recorded against an agency with no program: {_n(len(alone), 'agency', 'agencies')}, "
                     f"{hidden:,} of them hidden; they are counted in every total, not as programs.")
    for kind, things in (("service_type", "service types"), ("region", "regions"), ("funder", "funders"),
                         ("agency", "agencies")):
        table = by.get(kind, ())
        if len(table) and table["suppressed"].any():
            lines.append(suppression.small_numbers_note(int(table["suppressed"].sum()), len(table), things, m, "exits"))
    if counts.trend_hidden:
        lines.append(f"{_n(counts.trend_hidden, 'quarterly figure of the trend is', 'quarterly figures of the trend are')} "
                     "hidden.")
    if counts.returns_hidden:
        lines.append(f"{_n(counts.returns_hidden, 'return-to-homelessness figure is', 'return-to-homelessness figures are')} "
                     "hidden for small numbers.")
    lines.append("The outcome mix and the referral routes are in the directors' view only. Victim-service agencies "
                 "are left out of this page.")
    return [line for line in lines if line]


def day(value: dt.date) -> str:
    """A date as people write it: 1 Jan 2024 (atlas.formats)."""
    return formats.date(value)


def pct(value: float) -> str:
    return formats.percent(value)


def interval(row) -> str:
    return formats.percent_range(row["ci_low"], row["ci_high"])


def reading(view) -> list[str]:
    """The headline findings of an Outcomes view, from shown figures only (names Markdown-escaped)."""
    sel, net = view.selection, view.network
    if sel.get("hidden", False) or not sel["exits"]:
        return []
    scope = "these programs" if (view.funder or view.filters.region or view.filters.service_type
                                 or view.filters.sector) else "the network's programs"
    shown = "" if "people" in net else " shown"  # a whole period's published set counts every exit
    lines = [f"**{pct(sel['rate'])}** of the {sel['exits']:,} exits from {scope}{shown} ended positively "
             f"(95% interval {interval(sel)})."]
    if sel["exits"] != net["exits"] and not net.get("hidden", False) and net["exits"]:
        lines.append(f"The whole network: {pct(net['rate'])} of {net['exits']:,} exits ({interval(net)}).")
    services = view.by["service_type"]
    services = services[~services["suppressed"] & (services["group"] != NO_PROGRAM)]
    if len(services) >= 2:
        best, worst = services.loc[services["rate"].idxmax()], services.loc[services["rate"].idxmin()]
        lines.append(f"By service type, **{escape.markdown(best['group'])}** does best ({pct(best['rate'])}) and "
                     f"**{escape.markdown(worst['group'])}** least well ({pct(worst['rate'])}).")
    shown = view.returns[~view.returns["suppressed"]]
    if len(shown):
        last = shown.iloc[-1]
        lines.append(f"Of {last['followed']:,} clients housed between {day(last['housed_from'])} and "
                     f"{day(last['housed_to'])}, {pct(last['rate'])} returned to homelessness within "
                     f"{last['horizon_months']} months.")
    return lines
