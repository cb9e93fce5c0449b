-- name: agency_bottlenecks
-- purpose: Where referrals wait or are turned away: acceptance, time to accept and to start, and stalled referrals per receiving agency.
-- grain: one row per receiving agency with at least one referral in the period (internal referrals included)
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
--   as_of timestamp: the moment "now" for stalled referrals; empty = the latest timestamp in the data
--   stall_days number = 14: a pending referral older than this many days (at as_of) is stalled
with

referrals as (
    select * from referrals_in($start, $end, $region, $service_type, $sector)
),

agencies as (select * from agencies),

clock as (
    select as_of_or_latest($as_of) as as_of
),

per_agency as (
    select
        r.to_agency_id as agency_id,
        count(*) as received,
        count(r.accepted_at) as accepted,
        count(r.declined_at) as declined,
        count(*) filter (where r.is_pending) as pending,
        count(*) filter (
            where r.is_pending and epoch(c.as_of - r.referred_at) / 86400 > $stall_days
        ) as stalled,
        quantile_cont(r.days_to_accept, [0.5, 0.9]) as days_to_accept_quantiles,  -- one sort for both
        quantile_cont(r.days_to_start, 0.5) as median_days_to_start
    from referrals as r
    cross join clock as c
    group by r.to_agency_id
),

final as (
    select
        p.agency_id,
        a.name,
        a.sector,
        a.region,
        a.is_victim_service,
        p.received,
        p.accepted,
        p.declined,
        p.pending,
        p.stalled,
        p.accepted / nullif(p.accepted + p.declined, 0) as acceptance_rate,
        p.days_to_accept_quantiles[1] as median_days_to_accept,
        p.days_to_accept_quantiles[2] as p90_days_to_accept,
        p.median_days_to_start
    from per_agency as p
    inner join agencies as a on a.agency_id = p.agency_id
)

select * from final order by stalled desc, median_days_to_accept desc nulls last, agency_id
