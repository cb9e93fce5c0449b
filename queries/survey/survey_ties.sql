-- name: survey_ties
-- purpose: The ties of a survey round: each unordered pair (agency_a_id < agency_b_id) that one (rule either) or each (rule both) of the two named, with how many reported it and the means of their levels, frequencies, trusts and values (docs/survey.md).
-- grain: one row per tie
-- params:
--   round_id text: the survey round
--   rule text = either: either (a pair at least one of them named) or both (a pair each named); any other value gives no rows
with

directions as (
    select
        respondent_agency_id,
        partner_agency_id,
        frequency,
        level,
        case when trust_reliable is not null and trust_mission is not null and trust_open is not null
            then (trust_reliable + trust_mission + trust_open) / 3.0 end as trust,
        case when value_influence is not null and value_involvement is not null and value_resources is not null
            then (value_influence + value_involvement + value_resources) / 3.0 end as value
    from survey.answers
    where round_id = $round_id
        and partner_agency_id is not null and frequency is not null and level is not null and agreement is not null
),

ties as (
    select
        least(respondent_agency_id, partner_agency_id) as agency_a_id,
        greatest(respondent_agency_id, partner_agency_id) as agency_b_id,
        count(*) as reports,
        avg(level) as level,
        avg(frequency) as frequency,
        avg(trust) as trust,
        avg(value) as value
    from directions
    group by all
)

select agency_a_id, agency_b_id, reports, level, frequency, trust, value
from ties
where $rule = 'either' or ($rule = 'both' and reports = 2)
order by agency_a_id, agency_b_id
