-- name: survey_rounds
-- purpose: Every survey round kept beside the database, newest period first, with its dates, status (scheduled, open or closed, as of today) and how many members it invited and have answered.
-- grain: one row per round
-- params:
with

rows as (
    select distinct round_id, respondent_agency_id
    from survey.answers
    where partner_agency_id is null or (frequency is not null and level is not null and agreement is not null)
)

select
    r.round_id,
    r.name,
    r.period_start,
    r.period_end,
    r.opens_on,
    r.closes_on,
    r.closed_on,
    case when r.closed_on is not null or current_date > r.closes_on then 'closed'
        when current_date < r.opens_on then 'scheduled' else 'open' end as status,
    (select count(*) from survey.members as m where m.round_id = r.round_id) as invited,
    (select count(*) from rows where rows.round_id = r.round_id) as responded
from survey.rounds as r
order by r.period_end desc, r.period_start desc, r.round_id
