-- name: service_flows
-- purpose: Who sends which service where: referrals between different agencies by service type, with how many were accepted and declined.
-- grain: one row per (referring agency, receiving agency, service type) with at least one referral between different agencies in the period
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
with

referrals as (
    select * from referrals_in($start, $end, $region, $service_type, $sector)
    where not is_internal
),

final as (
    select
        from_agency_id,
        to_agency_id,
        service_type,
        count(*) as referrals,
        count(accepted_at) as accepted,
        count(declined_at) as declined
    from referrals
    group by from_agency_id, to_agency_id, service_type
)

select * from final order by from_agency_id, to_agency_id, service_type
