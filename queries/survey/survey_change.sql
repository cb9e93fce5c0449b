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
    join survey.members as p on p.agency_id = m.agency_id
    join previous on p.round_id = previous.round_id
    where m.round_id = $round_id
),

directions as (
    select
        a.round_id = $round_id as now,
        least(a.respondent_agency_id, a.partner_agency_id) as agency_a_id,
        greatest(a.respondent_agency_id, a.partner_agency_id) as agency_b_id
    from survey.answers as a
    join both_members as r on r.agency_id = a.respondent_agency_id
    join both_members as p on p.agency_id = a.partner_agency_id
    where (a.round_id = $round_id or a.round_id in (select round_id from previous))
        and a.frequency is not null and a.level is not null and a.agreement is not null
),

ties as (
    select agency_a_id, agency_b_id, bool_or(now) as now, bool_or(not now) as before
    from directions
    group by all
)

select
    t.agency_a_id,
    na.name as agency_a_name,
    t.agency_b_id,
    nb.name as agency_b_name,
    case when t.now then 'gained' else 'lost' end as change,
    (select round_id from previous) as previous_round_id
from ties as t
left join both_members as na on na.agency_id = t.agency_a_id
left join both_members as nb on nb.agency_id = t.agency_b_id
where t.now <> t.before
order by change, t.agency_a_id, t.agency_b_id
