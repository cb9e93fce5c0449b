-- referral_facts: every referral with what is derived from it once: status, internal flag, stage
-- durations in fractional days, month, and both agencies' region, sector and victim-service flag.
-- Stored, not a view: filled from referrals and agencies when a database is built
-- (queries/rollups/10_referral_facts.sql), so no query joins the agencies to every referral again;
-- tests/test_rollups.py checks it against the raw rows.
create table referral_facts (
    referral_id varchar not null,
    client_id varchar not null,
    from_agency_id varchar not null,
    to_agency_id varchar not null,
    service_type varchar not null,
    referred_at timestamp not null,
    to_program_id varchar,
    accepted_at timestamp,
    declined_at timestamp,
    decline_reason varchar,
    started_at timestamp,
    completed_at timestamp,
    lead_agency_id varchar,
    is_internal boolean not null,
    status varchar not null,
    is_pending boolean not null,
    days_to_accept double,
    days_to_decline double,
    days_to_start double,
    days_in_service double,
    referred_month date not null,
    from_region varchar,
    from_sector varchar,
    from_victim_service boolean,
    to_region varchar,
    to_sector varchar,
    to_victim_service boolean
)
