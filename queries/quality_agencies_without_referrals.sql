-- name: quality_agencies_without_referrals
-- purpose: Agencies that neither sent nor received any referral: missing from the referral export, or not in the network.
-- grain: one row per such agency, by agency_id (victim-service agencies unnamed)
-- params:
with

agencies as (select * from agencies),

referrals as (select * from referrals),

active as (
    select from_agency_id as agency_id from referrals
    union
    select to_agency_id as agency_id from referrals
),

final as (
    select
        a.agency_id,
        case when a.is_victim_service then null else a.name end as name,
        a.sector,
        a.region,
        a.is_victim_service
    from agencies as a
    left join active as r on r.agency_id = a.agency_id
    where r.agency_id is null
)

select * from final order by agency_id
