-- name: survey_round_for_period
-- purpose: The survey round whose ties stand for a period on the Network map: the latest closed round (by its period's end) whose period overlaps the period shown.
-- grain: one row, or none when no closed round overlaps
-- params:
--   start date: first day of the period shown; empty = unbounded
--   end date: last day of the period shown; empty = unbounded
select round_id, name, period_start, period_end, closed_on
from survey.rounds
where (closed_on is not null or current_date > closes_on)
    and ($end is null or period_start <= $end)
    and ($start is null or period_end >= $start)
order by period_end desc, period_start desc, round_id desc
limit 1
