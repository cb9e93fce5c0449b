-- name: survey_summary
-- purpose: A survey round's figures: members invited and responded, the response rate, ties (either / both rules), reciprocity, density, and the mean trust and value of the directions (docs/survey.md).
-- grain: one row (nulls when the round is unknown)
-- params:
--   round_id text: the survey round
with

members as (select agency_id from survey.members where round_id = $round_id),

rows as (
    select *
    from survey.answers
    where round_id = $round_id
        and (partner_agency_id is null or (frequency is not null and level is not null and agreement is not null))
),

directions as (
    select
        respondent_agency_id,
        partner_agency_id,
        case when trust_reliable is not null and trust_mission is not null and trust_open is not null
            then (trust_reliable + trust_mission + trust_open) / 3.0 end as trust,
        case when value_influence is not null and value_involvement is not null and value_resources is not null
            then (value_influence + value_involvement + value_resources) / 3.0 end as value
    from rows
    where partner_agency_id is not null
),

ties as (
    select least(respondent_agency_id, partner_agency_id) as a, greatest(respondent_agency_id, partner_agency_id) as b,
        count(*) as reports
    from directions
    group by all
),

counts as (
    select
        (select count(*) from members) as invited,
        (select count(distinct respondent_agency_id) from rows) as responded,
        (select count(*) from ties) as ties_either,
        (select count(*) from ties where reports = 2) as ties_both,
        (select avg(trust) from directions) as mean_trust,
        (select avg(value) from directions) as mean_value
)

select
    invited,
    responded,
    responded / nullif(invited, 0) as response_rate,
    ties_either,
    ties_both,
    ties_both / nullif(ties_either, 0) as reciprocity,
    ties_either / nullif(invited * (invited - 1) / 2, 0) as density,
    mean_trust,
    mean_value
from counts
