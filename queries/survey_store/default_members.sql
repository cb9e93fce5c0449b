-- The default members of a round for the period $start..$end: every agency with a referral (sent or
-- received) or a declared tie in force in the period, victim-service agencies left out.
with active as (
    select from_agency_id as agency_id from referrals
    where cast(referred_at as date) between $start and $end
    union
    select to_agency_id from referrals
    where cast(referred_at as date) between $start and $end
    union
    select agency_lo from partnerships_in($start, $end)
    union
    select agency_hi from partnerships_in($start, $end)
)
select a.agency_id
from agencies as a
where a.agency_id in (select agency_id from active) and not a.is_victim_service
order by a.agency_id
