-- name: network_agencies
-- purpose: Every agency as a node of the network: who it is, whether it is in the filtered scope, and the referrals it sent and received in the period (internal referrals excluded).
-- grain: one row per agency
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: agencies in this region are in scope; empty = all
--   service_type text: count only referrals of this service type; empty = all
--   sector text: agencies in this sector are in scope; empty = all
with

agencies as (select * from agencies),

referrals as (
    select *
    from referrals_in($start, $end, null, $service_type, null)
    where not is_internal
),

sent as (
    select from_agency_id as agency_id, count(*) as sent
    from referrals
    group by from_agency_id
),

received as (
    select to_agency_id as agency_id, count(*) as received
    from referrals
    group by to_agency_id
),

final as (
    select
        a.agency_id,
        a.name,
        a.sector,
        a.region,
        a.is_victim_service,
        ($region is null or a.region = $region) and ($sector is null or a.sector = $sector) as in_scope,
        coalesce(s.sent, 0) as sent,
        coalesce(r.received, 0) as received
    from agencies as a
    left join sent as s using (agency_id)
    left join received as r using (agency_id)
)

select * from final order by agency_id
