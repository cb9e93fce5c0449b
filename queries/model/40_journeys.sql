-- journeys(gap_days, as_of, stall_days): every client's journeys through the network, one row each
-- (docs/metrics.md, "Who holds the case"). A journey is a client's referrals in order of referred_at
-- (ties by referral_id); a referral more than gap_days after the client's previous one starts a new
-- journey. Its first referral gives its start, region and sector (of the referring agency). Its lead
-- is the last lead_agency_id recorded on its referrals, else the receiver of its earliest accepted
-- referral, else none. It is multi-agency when its referrals reach two or more receiving agencies, and
-- unheld when it is multi-agency, has no lead, and one of its referrals was declined or is stalled
-- (neither accepted nor declined, and more than stall_days old at as_of; null as_of = the data's latest).
-- Every referral takes part, victim-service agencies' too.
create macro journeys(p_gap_days, p_as_of, p_stall_days) as table
with

clock as (
    select as_of_or_latest(p_as_of) as as_of
),

referrals as (
    select
        r.*,
        row_number() over (partition by r.client_id order by r.referred_at, r.referral_id) as seq,
        lag(r.referred_at) over (partition by r.client_id order by r.referred_at, r.referral_id) as previous_at
    from main.referrals as r
),

steps as (
    select
        r.*,
        sum(case when r.previous_at is null
                   or epoch(r.referred_at - r.previous_at) / 86400 > p_gap_days then 1 else 0 end)
            over (partition by r.client_id order by r.seq rows unbounded preceding) as journey_no,
        r.accepted_at is null and r.declined_at is null
            and epoch(c.as_of - r.referred_at) / 86400 > p_stall_days as is_stalled,
        greatest(r.referred_at, r.accepted_at, r.declined_at, r.started_at, r.completed_at) as last_moment
    from referrals as r
    cross join clock as c
),

grouped as (
    select
        client_id,
        journey_no,
        min(referred_at) as first_referred_at,
        arg_min(from_agency_id, seq) as first_from_agency_id,
        count(*) as referrals,
        count(distinct to_agency_id) as receivers,
        arg_max(lead_agency_id, seq) filter (where lead_agency_id is not null) as recorded_lead,
        arg_min(to_agency_id, [epoch(accepted_at), seq]) filter (where accepted_at is not null) as accepted_lead,
        bool_or(declined_at is not null) as any_declined,
        bool_or(is_stalled) as any_stalled,
        arg_max(to_agency_id, seq) as last_to_agency_id,
        arg_max(case when declined_at is not null then 'declined'
                     when completed_at is not null then 'completed'
                     when started_at is not null then 'started'
                     when accepted_at is not null then 'accepted'
                     else 'pending' end, seq) as last_status,
        max(last_moment) as last_moment,
        list(distinct from_agency_id) || list(distinct to_agency_id) as agency_ids
    from steps
    group by client_id, journey_no
),

final as (
    select
        g.client_id,
        g.journey_no,
        g.first_referred_at,
        g.first_from_agency_id,
        a.region as from_region,
        a.sector as from_sector,
        g.referrals,
        g.receivers,
        g.receivers >= 2 as is_multi_agency,
        coalesce(g.recorded_lead, g.accepted_lead) as lead_agency_id,
        g.recorded_lead is not null as lead_recorded,
        g.any_declined,
        g.any_stalled,
        g.receivers >= 2 and g.recorded_lead is null and g.accepted_lead is null
            and (g.any_declined or g.any_stalled) as is_unheld,
        g.last_to_agency_id,
        g.last_status,
        g.last_moment,
        list_distinct(g.agency_ids) as agency_ids
    from grouped as g
    inner join main.agencies as a on a.agency_id = g.first_from_agency_id
)

select * from final
