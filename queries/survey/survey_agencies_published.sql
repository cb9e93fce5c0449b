-- name: survey_agencies_published
-- purpose: The trust and value each member received as views outside the directors' may show them (docs/survey.md): victim-service respondents' ratings left out, victim-service members not listed, and each mean given only from 3 or more raters (null below).
-- grain: one row per member of the round, not a victim-service agency, with trust or value received from at least 3 raters
-- params:
--   round_id text: the survey round
with

victim_service as (select agency_id from agencies where is_victim_service),

members as (
    select agency_id
    from survey.members
    where round_id = $round_id and agency_id not in (select agency_id from victim_service)
),

-- answered directions only (a draft row counts nowhere, as in survey_agencies), from respondents whose
-- ratings may reach an agency-level figure outside director views
directions as (
    select
        partner_agency_id as agency_id,
        case when trust_reliable is not null and trust_mission is not null and trust_open is not null
            then (trust_reliable + trust_mission + trust_open) / 3.0 end as trust,
        case when value_influence is not null and value_involvement is not null and value_resources is not null
            then (value_influence + value_involvement + value_resources) / 3.0 end as value
    from survey.answers
    where round_id = $round_id
        and partner_agency_id is not null
        and frequency is not null and level is not null and agreement is not null
        and respondent_agency_id not in (select agency_id from victim_service)
),

received as (
    select agency_id, avg(trust) as trust, count(trust) as raters, avg(value) as value, count(value) as value_raters
    from directions
    group by agency_id
)

select
    m.agency_id,
    case when r.raters >= 3 then r.trust end as trust_received,
    case when r.value_raters >= 3 then r.value end as value_received,
    r.raters,
    r.value_raters
from members as m
join received as r using (agency_id)
where r.raters >= 3 or r.value_raters >= 3
order by m.agency_id
