-- Answers, from the registered frame `new_answers` (the responses file's columns, in its order).
insert into answers
select round_id, respondent_agency_id, partner_agency_id, frequency, level, agreement, trust_reliable,
    trust_mission, trust_open, value_influence, value_involvement, value_resources, submitted_at
from new_answers
