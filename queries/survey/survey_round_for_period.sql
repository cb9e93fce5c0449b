-- name: survey_round_for_period
-- purpose: The survey round whose ties stand for a period on the Network map: the latest closed round (by its period's end, then its start, then the day it closed) whose period overlaps the period shown.
-- grain: one row, or none when no closed round overlaps
-- params:
--   start date: first day of the period shown; empty = unbounded
--   end date: last day of the period shown; empty = unbounded
select round_id, name, period_start, period_end, closed_on
from survey.rounds
where (closed_on is not null or current_date > closes_on)
    and ($end is null or period_start <= $end)
    and ($start is null or period_end >= $start)
-- two rounds of one period (a round run again): the one closed last, not the one whose id sorts last
order by period_end desc, period_start desc, coalesce(closed_on, closes_on) desc, round_id desc
limit 1
