-- name: survey_seen_differently
-- purpose: Ties of a survey round reported by both agencies whose two collaboration levels differ by 2 or more: a pair that sees the partnership differently, for discussion.
-- grain: one row per such tie (agency_a_id < agency_b_id)
-- params:
--   round_id text: the survey round
with

directions as (
    select respondent_agency_id, partner_agency_id, level, frequency
    from survey.answers
    where round_id = $round_id
        and partner_agency_id is not null and frequency is not null and level is not null and agreement is not null
),

names as (select agency_id, name from survey.members where round_id = $round_id)

select
    d.respondent_agency_id as agency_a_id,
    na.name as agency_a_name,
    d.partner_agency_id as agency_b_id,
    nb.name as agency_b_name,
    d.level as level_by_a,
    o.level as level_by_b,
    abs(d.level - o.level) as difference,
    d.frequency as frequency_by_a,
    o.frequency as frequency_by_b
from directions as d
join directions as o on o.respondent_agency_id = d.partner_agency_id and o.partner_agency_id = d.respondent_agency_id
left join names as na on na.agency_id = d.respondent_agency_id
left join names as nb on nb.agency_id = d.partner_agency_id
where d.respondent_agency_id < d.partner_agency_id and abs(d.level - o.level) >= 2
order by difference desc, agency_a_id, agency_b_id
