-- flow_months: a monthly rollup of referral_facts between two different agencies, one row per sending
-- agency, receiving agency, service type and month of referral, with the receiving agency's region and
-- sector, the referrals and how many were accepted. Filled from referral_facts when a database is built
-- (queries/rollups/); flows_in() reads it for the whole months of a period. tests/test_rollups.py
-- checks it against the raw rows.
create table flow_months (
    from_agency_id varchar not null,
    to_agency_id varchar not null,
    service_type varchar not null,
    referred_month date not null,
    to_region varchar,
    to_sector varchar,
    referrals bigint not null,
    accepted bigint not null
)
