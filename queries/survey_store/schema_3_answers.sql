-- answers: one row per (round, respondent, partner) named, as the responses file has it; a partner row
-- lacking frequency, level or agreement is a draft, and a row with no partner is "named nobody".
create table if not exists answers (
    round_id varchar not null,
    respondent_agency_id varchar not null,
    partner_agency_id varchar,
    frequency tinyint,
    level tinyint,
    agreement varchar,
    trust_reliable tinyint,
    trust_mission tinyint,
    trust_open tinyint,
    value_influence tinyint,
    value_involvement tinyint,
    value_resources tinyint,
    submitted_at timestamp not null
)
