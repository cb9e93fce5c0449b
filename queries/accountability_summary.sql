-- name: accountability_summary
-- purpose: Who holds the case: the period's journeys, how many involved several agencies, how many have a lead agency (recorded or inferred), and how many multi-agency journeys nobody took on (unheld).
-- grain: one row
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
        count(*) as journeys,
        count(*) filter (where is_multi_agency) as multi_agency,
        count(*) filter (where lead_agency_id is not null) as with_lead,
        count(*) filter (where lead_recorded) as lead_recorded,
        count(*) filter (where is_multi_agency and lead_agency_id is not null) as multi_agency_with_lead,
        count(*) filter (where is_unheld) as unheld,
        count(*) filter (where is_unheld) / nullif(count(*) filter (where is_multi_agency), 0) as unheld_share
    from journeys
)

select * from final
