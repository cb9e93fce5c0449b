-- referral_months: a monthly rollup of referral_facts, one row per receiving agency, service type and
-- month of referral, with the receiving agency's region and sector and the counts the month-grain
-- figures need. Filled from referral_facts when a database is built (queries/rollups/), never by hand:
-- tests/test_rollups.py checks it equals the same aggregation of the raw referrals.
create table referral_months (
    to_agency_id varchar not null,
    service_type varchar not null,
    referred_month date not null,
    to_region varchar,
    to_sector varchar,
    referrals bigint not null,
    declined bigint not null,
    declined_no_capacity bigint not null
)
