-- partnerships_in(start, end): declared partnerships in force at any time in the period
-- (started_on <= end and ended_on null or >= start), with the pair in canonical order (lo < hi).
create macro partnerships_in(p_start, p_end) as table
select
    *,
    least(agency_a_id, agency_b_id) as agency_lo,
    greatest(agency_a_id, agency_b_id) as agency_hi
from main.partnerships
where (p_end is null or started_on <= cast(p_end as date))
    and (p_start is null or ended_on is null or ended_on >= cast(p_start as date))
