-- name: lost_referrals
-- purpose: Referrals never acknowledged: neither accepted nor declined at as_of and older than lost_days, per receiving agency.
-- grain: one row per receiving agency with at least one lost referral made in the period (internal referrals included)
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
--   as_of timestamp: the moment a referral is judged at; one accepted or declined after it was still unanswered then; empty = the latest timestamp in the data
--   lost_days number = 30: a referral unanswered for more than this many days at as_of is lost
with

referrals as (
    select * from referrals_in($start, $end, $region, $service_type, $sector)
),

agencies as (select * from agencies),

clock as (
    select as_of_or_latest($as_of) as as_of
),

judged as (
    select
        r.to_agency_id as agency_id,
        epoch(c.as_of - r.referred_at) / 86400 as days_waiting,
        (r.accepted_at is null or r.accepted_at > c.as_of)
            and (r.declined_at is null or r.declined_at > c.as_of)
            and epoch(c.as_of - r.referred_at) / 86400 > $lost_days as is_lost
    from referrals as r
    cross join clock as c
    where r.referred_at <= c.as_of
),

per_agency as (
    select
        agency_id,
        count(*) as received,
        count(*) filter (where is_lost) as lost,
        max(days_waiting) filter (where is_lost) as oldest_wait_days,
        quantile_cont(days_waiting, 0.5) filter (where is_lost) as median_wait_days
    from judged
    group by agency_id
),

final as (
    select
        p.agency_id,
        a.name,
        a.sector,
        a.region,
        a.is_victim_service,
        p.received,
        p.lost,
        p.lost / p.received as lost_share,
        p.oldest_wait_days,
        p.median_wait_days
    from per_agency as p
    inner join agencies as a on a.agency_id = p.agency_id
    where p.lost > 0
)

select * from final order by lost desc, oldest_wait_days desc, agency_id
