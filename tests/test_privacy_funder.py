"""Issue 30, the funders' side: the periods board and funders choose (whole quarters and whole years,
compared only with their like), the funders' published set computed from all records and protected as a
set (Outcomes page, Overview, funder pack, CSV), checked against an independent computation and by the LP
audit over a year and its quarters together, on the continuum, the dense demo and a network built to
tempt differencing."""

from __future__ import annotations

import datetime as dt
import itertools

from atlas.filters import Filters, board_periods, whole_period

# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------

FIRST, LAST = dt.date(2023, 1, 1), dt.date(2025, 12, 31)


def test_board_periods_are_whole_quarters_then_whole_years_latest_quarter_first():
    periods = board_periods(dt.date(2022, 2, 14), dt.date(2025, 11, 3))
    labels = [label for label, *_ in periods]
    assert labels[0] == "2025 Q3", "the default: the latest whole quarter (2025 Q4 has not ended)"
    assert labels[:3] == ["2025 Q3", "2025 Q2", "2025 Q1"]
    assert [x for x in labels if " " not in x] == ["2024", "2023", "2022"], "2025 has not ended"
    assert labels.index("2022 Q1") < labels.index("2024"), "every quarter before any year"
    for label, _start, end, length in periods:
        assert end <= dt.date(2025, 11, 3), "only periods that have ended"
        assert (length == "year") == (" " not in label)


def test_within_a_length_periods_never_overlap_and_are_compared_with_their_like():
    periods = board_periods(FIRST, LAST)
    offered = {(start, end, length) for _, start, end, length in periods}
    for length in ("quarter", "year"):
        spans = sorted((s, e) for _, s, e, n in periods if n == length)
        for (_, e1), (s2, _) in itertools.pairwise(spans):
            assert e1 + dt.timedelta(days=1) == s2
        for start, end in spans[1:]:
            before = Filters(start, end, aligned=length).previous()
            assert (before.start, before.end, before.aligned) in offered, "compared only with one of its like"
    q = Filters(dt.date(2025, 10, 1), dt.date(2025, 12, 31), aligned="quarter").previous()
    assert (q.start, q.end) == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    y = Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31), aligned="year").previous()
    assert (y.start, y.end, y.aligned) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31), "year")


def test_a_year_nests_exactly_its_four_quarters():
    periods = board_periods(FIRST, LAST)
    quarters = [(s, e) for _, s, e, n in periods if n == "quarter"]
    for _, start, end, length in periods:
        if length == "year":
            inside = sorted((s, e) for s, e in quarters if start <= s and e <= end)
            assert len(inside) == 4 and inside[0][0] == start and inside[-1][1] == end
            assert all(e1 + dt.timedelta(days=1) == s2 for (_, e1), (s2, _) in itertools.pairwise(inside))


def test_only_a_whole_period_of_the_whole_network_is_honoured():
    q4 = Filters(dt.date(2025, 10, 1), dt.date(2025, 12, 31), aligned="quarter")
    assert whole_period(q4, FIRST, LAST)
    assert whole_period(Filters(dt.date(2024, 1, 1), dt.date(2024, 12, 31), aligned="year"), FIRST, LAST)
    assert not whole_period(Filters(q4.start, q4.end, region="North", aligned="quarter"), FIRST, LAST)
    assert not whole_period(Filters(q4.start, q4.end), FIRST, LAST), "a director's free period"
    assert not whole_period(Filters(dt.date(2025, 10, 1), dt.date(2025, 11, 30), aligned="quarter"), FIRST, LAST)
    assert not whole_period(Filters(dt.date(2026, 1, 1), dt.date(2026, 3, 31), aligned="quarter"), FIRST, LAST)
