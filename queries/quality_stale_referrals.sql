-- name: quality_stale_referrals
-- purpose: Open referrals (pending, accepted or started) whose last recorded step is more than `days` days before as_of: records that look no longer kept up to date.
-- grain: one row per such referral, longest without an update first
-- params:
--   as_of timestamp: the moment "now"; empty = the latest timestamp in the data
--   days number = 90: an open referral not updated for more than this many days is listed
with

referral_facts as (select * from referral_facts),

clock as (
    select as_of_or_latest($as_of) as as_of
),

open_referrals as (
    select
        referral_id,
        from_agency_id,
        to_agency_id,
        service_type,
        status,
        referred_at,
        greatest(referred_at, accepted_at, started_at) as last_update
    from referral_facts
    where status in ('pending', 'accepted', 'started')
),

final as (
    select o.*, epoch(c.as_of - o.last_update) / 86400 as days_since_update
    from open_referrals as o
    cross join clock as c
    where epoch(c.as_of - o.last_update) / 86400 > $days
)

select * from final order by days_since_update desc, referral_id
