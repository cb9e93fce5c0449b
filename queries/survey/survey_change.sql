-- name: survey_change
-- purpose: Ties gained and lost (rule either) since the previous survey round (the latest round whose period ends before this one's starts), among agencies that were members of both rounds.
-- grain: one row per tie gained or lost (agency_a_id < agency_b_id); none when there is no previous round
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

ties as (
    select distinct
        a.round_id,
        least(a.respondent_agency_id, a.partner_agency_id) as agency_a_id,
        greatest(a.respondent_agency_id, a.partner_agency_id) as agency_b_id
    from survey.answers as a
    where a.round_id in ($round_id, (select round_id from previous))
        and a.partner_agency_id is not null and a.frequency is not null and a.level is not null
        and a.agreement is not null
        and a.respondent_agency_id in (select agency_id from both_members)
        and a.partner_agency_id in (select agency_id from both_members)
),

now as (select agency_a_id, agency_b_id from ties where round_id = $round_id),

before as (select agency_a_id, agency_b_id from ties where round_id = (select round_id from previous)),

changes as (
    select agency_a_id, agency_b_id, 'gained' as change from (select * from now except select * from before)
    union all
    select agency_a_id, agency_b_id, 'lost' as change from (select * from before except select * from now)
)

select
    c.agency_a_id,
    na.name as agency_a_name,
    c.agency_b_id,
    nb.name as agency_b_name,
    c.change,
    (select round_id from previous) as previous_round_id
from changes as c
left join both_members as na on na.agency_id = c.agency_a_id
left join both_members as nb on nb.agency_id = c.agency_b_id
order by c.change, c.agency_a_id, c.agency_b_id
