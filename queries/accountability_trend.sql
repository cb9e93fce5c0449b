-- name: accountability_trend
-- purpose: Who holds the case month by month: multi-agency journeys starting each month, how many have a lead agency, and how many nobody took on.
-- grain: one row per month (of the journey's first referral) with at least one journey
-- params:
--   start date: first day of the period, on the journey's first referral (inclusive); empty = from the first referral
--   end date: last day of the period, on the journey's first referral (inclusive); empty = to the last referral
--   region text: region of the agency that made the journey's first referral; empty = all
--   as_of timestamp: the moment "now"; empty = the latest timestamp in the data
--   stall_days number = 14: a referral neither accepted nor declined for longer than this is stalled
--   journey_gap_days number = 30: a referral more than this many days after the client's previous one starts a new journey
with

journeys as (
    select *
    from journeys($journey_gap_days, $as_of, $stall_days)
    where ($start is null or first_referred_at >= cast($start as timestamp))
        and ($end is null or first_referred_at < cast($end as timestamp) + interval 1 day)
        and ($region is null or from_region = $region)
),

final as (
    select
        cast(date_trunc('month', first_referred_at) as date) as month,
        count(*) as journeys,
        count(*) filter (where is_multi_agency) as multi_agency,
        count(*) filter (where is_multi_agency and lead_agency_id is not null) as multi_agency_with_lead,
        count(*) filter (where is_multi_agency and lead_recorded) as multi_agency_lead_recorded,
        count(*) filter (where is_unheld) as unheld
    from journeys
    group by 1
)

select * from final order by month
