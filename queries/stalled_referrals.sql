-- name: stalled_referrals
-- purpose: The work list of stalled referrals: still neither accepted nor declined, waiting longer than stall_days.
-- grain: one row per stalled referral, longest wait first
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
--   agency_id text: only referrals to this receiving agency; empty = all
--   as_of timestamp: the moment "now"; empty = the latest timestamp in the data
--   stall_days number = 14: a pending referral older than this many days is stalled
with

referrals as (
    select *
    from referrals_in($start, $end, $region, $service_type, $sector)
    where is_pending and ($agency_id is null or to_agency_id = $agency_id)
),

agencies as (select * from agencies),

clock as (
    select as_of_or_latest($as_of) as as_of
),

waiting as (
    select r.*, epoch(c.as_of - r.referred_at) / 86400 as days_waiting
    from referrals as r
    cross join clock as c
),

final as (
    select
        w.referral_id,
        w.client_id,
        w.from_agency_id,
        fa.name as from_agency,
        w.to_agency_id,
        ta.name as to_agency,
        w.service_type,
        w.referred_at,
        w.days_waiting
    from waiting as w
    inner join agencies as fa on fa.agency_id = w.from_agency_id
    inner join agencies as ta on ta.agency_id = w.to_agency_id
    where w.days_waiting > $stall_days
)

select * from final order by days_waiting desc, referral_id
