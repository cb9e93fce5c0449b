-- name: survey_agencies
-- purpose: Each member of a survey round: whether it answered, the partners it named, the members naming it, and the mean trust and value it received with the number of raters behind the trust (docs/survey.md).
-- grain: one row per member of the round
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

named as (
    select respondent_agency_id as agency_id, count(*) as partners_named
    from directions
    group by all
),

received as (
    select partner_agency_id as agency_id, count(*) as named_by, avg(trust) as trust_received,
        avg(value) as value_received, count(trust) as raters
    from directions
    group by all
)

select
    m.agency_id,
    m.agency_id in (select respondent_agency_id from rows) as responded,
    coalesce(n.partners_named, 0) as partners_named,
    coalesce(r.named_by, 0) as named_by,
    r.trust_received,
    r.value_received,
    coalesce(r.raters, 0) as raters
from members as m
left join named as n using (agency_id)
left join received as r using (agency_id)
order by m.agency_id
