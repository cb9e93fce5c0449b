-- A round's standing answers as the responses file has them (drafts left out), in a fixed order.
select round_id, respondent_agency_id, partner_agency_id, frequency, level, agreement, trust_reliable,
    trust_mission, trust_open, value_influence, value_involvement, value_resources, submitted_at
from answers
where round_id = $round_id
    and (partner_agency_id is null or (frequency is not null and level is not null and agreement is not null))
order by respondent_agency_id, partner_agency_id nulls first
