-- journey_base(gap_days): every client's journeys through the network, one row each, with what does not
-- depend on the moment "now" (docs/metrics.md, "Who holds the case"). A journey is a client's referrals in
-- order of referred_at (ties by referral_id); a referral more than gap_days after the client's previous one
-- starts a new journey. Its first referral gives its start, region and sector (of the referring agency).
-- recorded_lead is the last lead_agency_id recorded on its referrals; accepted_lead the receiver of its
-- earliest accepted referral; it is multi-agency when its referrals reach two or more receiving agencies. Its
-- referrals are the client's from first_referred_at to last_referred_at (which agencies they involve is worked
-- out from them for the few journeys that need it, queries/unheld_journeys.sql: listing every journey's
-- agencies here was a quarter of the work of a build). oldest_open_at is the earliest referral still neither accepted nor declined,
-- from which journeys() tells, for any "now", whether one of them is stalled. Every referral takes part,
-- victim-service agencies' too. Stored for the default gap as journey_facts (queries/rollups/60_journey_facts.sql).
create macro journey_base(p_gap_days) as table
with

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
            over (partition by r.client_id order by r.referred_at, r.referral_id rows unbounded preceding)
            as journey_no,
        greatest(r.referred_at, r.accepted_at, r.declined_at, r.started_at, r.completed_at) as last_moment
    from referrals as r
),

grouped as (
    select
        client_id,
        journey_no,
        min(referred_at) as first_referred_at,
        max(referred_at) as last_referred_at,
        arg_min(from_agency_id, seq) as first_from_agency_id,
        count(*) as referrals,
        min(to_agency_id) <> max(to_agency_id) as is_multi_agency,  -- not count(distinct): one pass
        arg_max(lead_agency_id, seq) filter (where lead_agency_id is not null) as recorded_lead,
        arg_min(to_agency_id, {'at': accepted_at, 'seq': seq}) filter (where accepted_at is not null) as accepted_lead,
        bool_or(declined_at is not null) as any_declined,
        min(referred_at) filter (where accepted_at is null and declined_at is null) as oldest_open_at,
        arg_max(to_agency_id, seq) as last_to_agency_id,
        arg_max(case when declined_at is not null then 'declined'
                     when completed_at is not null then 'completed'
                     when started_at is not null then 'started'
                     when accepted_at is not null then 'accepted'
                     else 'pending' end, seq) as last_status,
        max(last_moment) as last_moment
    from steps
    group by client_id, journey_no
),

final as (
    select
        g.client_id,
        g.journey_no,
        g.first_referred_at,
        g.last_referred_at,
        g.first_from_agency_id,
        a.region as from_region,
        a.sector as from_sector,
        g.referrals,
        g.is_multi_agency,
        g.recorded_lead,
        g.accepted_lead,
        g.any_declined,
        g.oldest_open_at,
        g.last_to_agency_id,
        g.last_status,
        g.last_moment
    from grouped as g
    inner join main.agencies as a on a.agency_id = g.first_from_agency_id
)

select * from final
