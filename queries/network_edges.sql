-- name: network_edges
-- purpose: Referral flows between agencies, with the declared tie (if any) that the flow runs along.
-- grain: one row per directed pair of different agencies with at least one referral in the period
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
with

flows as (
    select * from flows_in($start, $end, $region, $service_type, $sector)
),

agreements as (
    select
        agency_lo,
        agency_hi,
        bool_or(kind = 'formal') as has_formal
    from partnerships_in($start, $end)
    group by agency_lo, agency_hi
),

final as (
    select
        f.from_agency_id,
        f.to_agency_id,
        f.referrals,
        f.accepted,
        case
            when a.has_formal then 'formal'
            when a.agency_lo is not null then 'informal'
            else 'none'
        end as agreement
    from flows as f
    left join agreements as a
        on a.agency_lo = least(f.from_agency_id, f.to_agency_id)
        and a.agency_hi = greatest(f.from_agency_id, f.to_agency_id)
)

select * from final order by referrals desc, from_agency_id, to_agency_id
