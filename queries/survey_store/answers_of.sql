-- The standing answers of one respondent in one round (drafts and the "named nobody" row included).
select partner_agency_id, frequency, level, agreement, trust_reliable, trust_mission, trust_open,
    value_influence, value_involvement, value_resources, submitted_at
from answers
where round_id = $round_id and respondent_agency_id = $agency_id
order by partner_agency_id nulls first
