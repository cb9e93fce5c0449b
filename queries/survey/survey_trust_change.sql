-- name: survey_trust_change
-- purpose: Each agency's trust received in the previous survey round (the latest whose period ends before this one's starts) and in this one, with the raters behind each, for agencies that were members of both.
-- grain: one row per agency member of both rounds; none when there is no previous round
-- params:
--   round_id text: the survey round
with

this as (select round_id, period_start from survey.rounds where round_id = $round_id),

previous as (
    select r.round_id
    from survey.rounds as r, this as t
    where r.period_end < t.period_start
    order by r.period_end desc, r.period_start desc, r.round_id desc
    limit 1
),

both_members as (
    select m.agency_id, m.name
    from survey.members as m
    where m.round_id = $round_id
        and m.agency_id in (select agency_id from survey.members where round_id = (select round_id from previous))
),

received as (
    select
        round_id,
        partner_agency_id as agency_id,
        avg(case when trust_reliable is not null and trust_mission is not null and trust_open is not null
            then (trust_reliable + trust_mission + trust_open) / 3.0 end) as trust,
        count(case when trust_reliable is not null and trust_mission is not null and trust_open is not null
            then 1 end) as raters
    from survey.answers
    where round_id in ($round_id, (select round_id from previous))
        and partner_agency_id is not null and frequency is not null and level is not null and agreement is not null
    group by all
)

select
    m.agency_id,
    m.name,
    b.trust as trust_before,
    coalesce(b.raters, 0) as raters_before,
    n.trust as trust_now,
    coalesce(n.raters, 0) as raters_now,
    n.trust - b.trust as trust_change,
    (select round_id from previous) as previous_round_id
from both_members as m
left join received as b on b.agency_id = m.agency_id and b.round_id = (select round_id from previous)
left join received as n on n.agency_id = m.agency_id and n.round_id = $round_id
order by m.agency_id
