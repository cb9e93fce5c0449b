-- name: unheld_journeys
-- purpose: The work list of unheld journeys: families passed between agencies that no agency took on, with the agencies involved, the last step and how long ago it was.
-- grain: one row per unheld journey, the longest untouched first
-- params:
--   start date: first day of the period, on the journey's first referral (inclusive); empty = from the first referral
--   end date: last day of the period, on the journey's first referral (inclusive); empty = to the last referral
--   region text: region of the agency that made the journey's first referral; empty = all
--   as_of timestamp: the moment "now"; empty = the latest timestamp in the data
--   stall_days number = 14: a referral neither accepted nor declined for longer than this is stalled
--   journey_gap_days number = 30: a referral more than this many days after the client's previous one starts a new journey
with

clock as (
    select as_of_or_latest($as_of) as as_of
),

journeys as (
    select *
    from journeys($journey_gap_days, $as_of, $stall_days)
    where is_unheld
        and ($start is null or first_referred_at >= cast($start as timestamp))
        and ($end is null or first_referred_at < cast($end as timestamp) + interval 1 day)
        and ($region is null or from_region = $region)
),

steps as (
    -- each unheld journey's referrals: its client's, from its first referral to its last
    select j.client_id, j.journey_no, r.from_agency_id, r.to_agency_id
    from journeys as j
    inner join main.referrals as r
        on r.client_id = j.client_id
        and r.referred_at between j.first_referred_at and j.last_referred_at
),

involved_ids as (
    select distinct s.client_id, s.journey_no, u.agency_id
    from steps as s
    cross join unnest([s.from_agency_id, s.to_agency_id]) as u(agency_id)
),

involved as (
    select
        i.client_id,
        i.journey_no,
        string_agg(a.name, '; ' order by a.name) as agencies
    from involved_ids as i
    inner join main.agencies as a on a.agency_id = i.agency_id
    group by i.client_id, i.journey_no
),

receivers as (
    select client_id, journey_no, count(distinct to_agency_id) as receivers
    from steps
    group by client_id, journey_no
),

final as (
    select
        j.client_id,
        j.first_referred_at,
        j.referrals,
        n.receivers,
        i.agencies,
        j.last_status,
        la.name as last_to_agency,
        j.last_moment,
        epoch(c.as_of - j.last_moment) / 86400 as days_since
    from journeys as j
    inner join involved as i on i.client_id = j.client_id and i.journey_no = j.journey_no
    inner join receivers as n on n.client_id = j.client_id and n.journey_no = j.journey_no
    inner join main.agencies as la on la.agency_id = j.last_to_agency_id
    cross join clock as c
)

select * from final order by days_since desc, client_id
