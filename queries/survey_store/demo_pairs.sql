-- The demo rounds' material: every ordered pair of agencies (r, p) with referrals between them (either
-- way) or a declared tie in force in the period $start..$end, the referrals both ways, and whether a
-- formal or any declared tie is in force.
with

flows as (
    select from_agency_id as r, to_agency_id as p, count(*) as referrals
    from referrals
    where cast(referred_at as date) between $start and $end and from_agency_id <> to_agency_id
    group by all
),

ties as (
    select agency_lo as r, agency_hi as p, bool_or(kind = 'formal') as formal
    from partnerships_in($start, $end)
    where agency_lo <> agency_hi
    group by all
),

directed as (
    select r, p, referrals, null::boolean as formal from flows
    union all
    select p, r, referrals, null from flows
    union all
    select r, p, 0, formal from ties
    union all
    select p, r, 0, formal from ties
)

select r, p, sum(referrals) as referrals, coalesce(bool_or(formal), false) as formal, bool_or(formal is not null) as declared
from directed
group by r, p
order by r, p
