-- journeys(gap_days, as_of, stall_days): every client's journeys through the network, one row each
-- (docs/metrics.md, "Who holds the case"), from journey_base: stored as journey_facts for the default gap
-- of 30 days, worked out again for any other. Its lead is the last lead_agency_id recorded on its
-- referrals, else the receiver of its earliest accepted referral, else none. It is multi-agency when its
-- referrals reach two or more receiving agencies, and unheld when it is multi-agency, has no lead, and one
-- of its referrals was declined or is stalled (neither accepted nor declined, and more than stall_days old
-- at as_of; null as_of = the data's latest). Only one of the two sources is read: the other's filter is
-- false for the gap given.
create macro journeys(p_gap_days, p_as_of, p_stall_days) as table
with

clock as (
    select as_of_or_latest(p_as_of) as as_of
),

base as (
    select * from main.journey_facts where p_gap_days = 30
    union all
    select * from journey_base(p_gap_days) where p_gap_days <> 30
),

final as (
    select
        b.client_id,
        b.journey_no,
        b.first_referred_at,
        b.last_referred_at,
        b.first_from_agency_id,
        b.from_region,
        b.from_sector,
        b.referrals,
        b.is_multi_agency,
        coalesce(b.recorded_lead, b.accepted_lead) as lead_agency_id,
        b.recorded_lead is not null as lead_recorded,
        b.any_declined,
        coalesce(epoch(c.as_of - b.oldest_open_at) / 86400 > p_stall_days, false) as any_stalled,
        b.is_multi_agency and b.recorded_lead is null and b.accepted_lead is null
            and (b.any_declined or coalesce(epoch(c.as_of - b.oldest_open_at) / 86400 > p_stall_days, false))
            as is_unheld,
        b.last_to_agency_id,
        b.last_status,
        b.last_moment
    from base as b
    cross join clock as c
)

select * from final
