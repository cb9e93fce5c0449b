-- name: decline_reasons
-- purpose: Why referrals fail: declined referrals by receiving agency, service type and the reason given.
-- grain: one row per (receiving agency, service_type, decline_reason) with at least one declined referral made in the period (internal referrals included)
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
with

referrals as (
    select * from referrals_in($start, $end, $region, $service_type, $sector)
    where declined_at is not null
),

agencies as (select * from agencies),

per_reason as (
    select
        to_agency_id as agency_id,
        service_type,
        decline_reason,
        count(*) as declines
    from referrals
    group by all
),

final as (
    select
        p.agency_id,
        a.name,
        a.sector,
        a.region,
        a.is_victim_service,
        p.service_type,
        p.decline_reason,
        p.declines
    from per_reason as p
    inner join agencies as a on a.agency_id = p.agency_id
)

select * from final order by agency_id, service_type, decline_reason
