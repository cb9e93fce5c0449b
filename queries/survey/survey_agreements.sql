-- name: survey_agreements
-- purpose: Agreements on paper and in mind: directions of a survey round where the respondent says it has a formal agreement with the partner but no formal partnership between them is in force in the round's period (yes_not_on_paper), and where it says it has none but one is (no_but_on_paper).
-- grain: one row per such direction (respondent, partner)
-- params:
--   round_id text: the survey round
with

round as (select period_start, period_end from survey.rounds where round_id = $round_id),

directions as (
    select respondent_agency_id, partner_agency_id, agreement
    from survey.answers
    where round_id = $round_id
        and partner_agency_id is not null and frequency is not null and level is not null and agreement is not null
        and agreement in ('yes', 'no')
),

on_paper as (
    select
        least(p.agency_a_id, p.agency_b_id) as agency_lo,
        greatest(p.agency_a_id, p.agency_b_id) as agency_hi,
        string_agg(distinct p.instrument, ', ' order by p.instrument) as instruments
    from partnerships as p, round as r
    where p.kind = 'formal'
        and p.started_on <= r.period_end
        and (p.ended_on is null or p.ended_on >= r.period_start)
    group by all
),

names as (select agency_id, name from survey.members where round_id = $round_id)

select
    d.respondent_agency_id,
    nr.name as respondent_name,
    d.partner_agency_id,
    np.name as partner_name,
    d.agreement as said,
    o.instruments as on_paper,
    case when d.agreement = 'yes' then 'yes_not_on_paper' else 'no_but_on_paper' end as finding
from directions as d
left join on_paper as o
    on o.agency_lo = least(d.respondent_agency_id, d.partner_agency_id)
    and o.agency_hi = greatest(d.respondent_agency_id, d.partner_agency_id)
left join names as nr on nr.agency_id = d.respondent_agency_id
left join names as np on np.agency_id = d.partner_agency_id
where (d.agreement = 'yes' and o.agency_lo is null) or (d.agreement = 'no' and o.agency_lo is not null)
order by finding, d.respondent_agency_id, d.partner_agency_id
