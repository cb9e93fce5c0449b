-- name: group_flows
-- purpose: Referrals between and within the network's regions (or sectors), from every referral of the period, and how many of them ran over a formal agreement in force between their two agencies; victim-service agencies and internal referrals left out, as on the network map.
-- grain: one row per ordered pair of groups (from_group = to_group: within the group) with at least one referral in the period
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   by text = region: group agencies by region or by sector
with

referrals as (
    select
        from_agency_id,
        to_agency_id,
        case when $by = 'sector' then from_sector else from_region end as from_group,
        case when $by = 'sector' then to_sector else to_region end as to_group
    from referrals_in($start, $end, null, null, null)
    where not is_internal
        and not coalesce(from_victim_service, false)
        and not coalesce(to_victim_service, false)
),

formal as (
    select agency_lo, agency_hi
    from partnerships_in($start, $end)
    group by agency_lo, agency_hi
    having bool_or(kind = 'formal')
),

final as (
    select
        r.from_group,
        r.to_group,
        count(*) as referrals,
        count(f.agency_lo) as formal_referrals
    from referrals as r
    left join formal as f
        on f.agency_lo = least(r.from_agency_id, r.to_agency_id)
        and f.agency_hi = greatest(r.from_agency_id, r.to_agency_id)
    group by r.from_group, r.to_group
)

select * from final order by from_group, to_group
