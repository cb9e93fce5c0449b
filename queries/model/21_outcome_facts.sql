-- outcome_facts: every exit with its polarity, the agency's region and sector, the program's service
-- type, and its referrer of record: the agency that made the client's latest referral to the exiting
-- agency from another agency on or before the exit day (ties: the highest referral_id; none = null).
-- Stored, not a view: filled from outcomes, referrals, agencies and programs when a database is built
-- (queries/rollups/20_outcome_facts.sql), because the referrer of record does not depend on the
-- period looked at; tests/test_rollups.py checks it against the raw rows.
create table outcome_facts (
    client_id varchar not null,
    agency_id varchar not null,
    program_id varchar,
    outcome varchar not null,
    achieved_on date not null,
    polarity varchar not null,
    is_positive boolean not null,
    is_housing boolean not null,
    achieved_month date not null,
    region varchar,
    sector varchar,
    is_victim_service boolean,
    service_type varchar,
    referred_by_agency_id varchar
)
