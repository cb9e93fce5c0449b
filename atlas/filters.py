"""The shared filters every page honours, and the periods they compare."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from atlas import catalog

PERIODS = ("Last 3 months", "Last 6 months", "Last 12 months", "All data", "Custom")
_MONTHS = {"Last 3 months": 3, "Last 6 months": 6, "Last 12 months": 12}


@dataclass(frozen=True)
class Filters:
    """A period (inclusive dates; None = open) and optional region, service type and sector."""

    start: dt.date | None = None
    end: dt.date | None = None
    region: str | None = None
    service_type: str | None = None
    sector: str | None = None
    aligned: str | None = None  # "quarter" or "year" when the period is a whole reporting period

    def params_for(self, query: str) -> dict:
        """The filter values the named query takes (a query ignores filters it does not declare)."""
        declared = {p.name for p in catalog.get(query).params}
        values = {"start": self.start, "end": self.end, "region": self.region,
                  "service_type": self.service_type, "sector": self.sector}
        return {k: v for k, v in values.items() if k in declared}

    def previous(self) -> Filters | None:
        """The period of the same length just before this one; None when the period is open. A period of
        whole months (as "Last 12 months" is) is compared with the same number of months before it, not
        the same number of days: 2025 with 2024, leap day included."""
        if self.start is None or self.end is None:
            return None
        end = self.start - dt.timedelta(days=1)
        if self.aligned:  # the whole reporting period before: never overlapping another published one
            return replace(self, start=period_start(end, self.aligned), end=end)
        months = _whole_months(self.start, self.end)
        if months:
            return replace(self, start=_shift_months(self.start, -months), end=end)
        length = (self.end - self.start).days + 1
        return replace(self, start=end - dt.timedelta(days=length - 1), end=end)

    def describe_period(self) -> str:
        """The period alone, in words: "all data", "2025 Q3", or "1 Jan 2025 to 31 Dec 2025" (atlas.formats)."""
        from atlas import formats

        return (
            "all data" if self.start is None and self.end is None
            else period_label(self.start, self.aligned) if self.aligned and self.start
            else formats.span(self.start, self.end)
        )

    def describe(self) -> str:
        period = self.describe_period()
        from atlas import formats

        scope = [f"{name.replace('_', ' ')} {formats.words(value) if name != 'region' else value}" for name, value in
                 (("region", self.region), ("service", self.service_type), ("sector", self.sector)) if value]
        return period + ("; " + ", ".join(scope) if scope else "")


def _shift_months(day: dt.date, months: int) -> dt.date:
    """The same date `months` months later (earlier when negative), clamped to the month's length."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def _months_before(day: dt.date, months: int) -> dt.date:
    """The day after the same date `months` months earlier (clamped to the month's length)."""
    return _shift_months(day, -months) + dt.timedelta(days=1)


def _whole_months(start: dt.date, end: dt.date) -> int | None:
    """How many months the period from `start` to `end` is, when it is a whole number of them counted
    back from its end (as the "Last N months" presets are); None otherwise."""
    span = (end.year - start.year) * 12 + end.month - start.month + 1
    for months in (span - 1, span):
        if months > 0 and _months_before(end, months) == start:
            return months
    return None


def period_bounds(preset: str, first: dt.date, last: dt.date,
                  custom: tuple[dt.date, dt.date] | None = None) -> tuple[dt.date | None, dt.date | None]:
    """Start and end of a period preset, counted back from the data's last day."""
    if preset == "All data":
        return None, None
    if preset == "Custom":
        if not custom:
            return first, last
        start, end = custom
        return min(start, end), max(start, end)
    start = _months_before(last, _MONTHS[preset])
    return max(start, first), last


def period_start(day: dt.date, length: str) -> dt.date:
    """First day of the calendar quarter or year that contains `day`."""
    if length == "year":
        return dt.date(day.year, 1, 1)
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_end(day: dt.date, length: str) -> dt.date:
    start = period_start(day, length)
    months = 12 if length == "year" else 3
    year, month = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


def period_label(start: dt.date, length: str) -> str:
    return f"{start.year}" if length == "year" else f"{start.year} Q{(start.month - 1) // 3 + 1}"


def reporting_periods(first: dt.date, last: dt.date, length: str) -> list[tuple[str, dt.date, dt.date]]:
    """The complete calendar quarters (or years) the data covers, latest first, as (label, start, end).

    Only whole periods that have ended by the data's last day are offered to board and funder views:
    they never overlap or contain one another, so no two choices differ by a few people, and a
    period's figures do not change as later data arrives."""
    periods = []
    start = period_start(first, length)
    while True:
        end = period_end(start, length)
        if end > last:
            break
        periods.append((period_label(start, length), start, end))
        start = end + dt.timedelta(days=1)
    return periods[::-1]


def board_periods(first: dt.date, last: dt.date) -> list[tuple[str, dt.date, dt.date, str]]:
    """What a board member or funder chooses from: every whole calendar quarter that has ended by the
    data's last day (latest first, the default), then every whole calendar year (latest first), as
    (label, start, end, length).

    Two quarters never overlap, nor two years; a year and its quarters do, and can be subtracted from one
    another, so they are protected together (atlas.views.published). A period is compared only with the
    period of the same length just before it (`Filters.previous`)."""
    return [(label, start, end, length) for length in ("quarter", "year")
            for label, start, end in reporting_periods(first, last, length)]


def whole_period(filters: Filters, first: dt.date, last: dt.date) -> bool:
    """Whether the filters are one of `board_periods` of the whole network: no region, service or sector."""
    if filters.region or filters.service_type or filters.sector:
        return False
    return any((filters.start, filters.end, filters.aligned) == (start, end, length)
               for _, start, end, length in board_periods(first, last))
