-- journey_facts: journey_base(30) stored, the journeys at the default gap of 30 days (the named queries'
-- journey_gap_days default), worked out once per build (queries/rollups/60_journey_facts.sql) in order of
-- first referral, so that the Accountability page reads a period's journeys instead of ordering every
-- referral of every client again; journeys() reads it whenever the gap is 30. tests/test_rollups.py checks
-- it against journey_base(30).
create table journey_facts (
    client_id varchar not null,
    journey_no bigint not null,
    first_referred_at timestamp not null,
    last_referred_at timestamp not null,
    first_from_agency_id varchar not null,
    from_region varchar,
    from_sector varchar,
    referrals bigint not null,
    is_multi_agency boolean not null,
    recorded_lead varchar,
    accepted_lead varchar,
    any_declined boolean not null,
    oldest_open_at timestamp,
    last_to_agency_id varchar not null,
    last_status varchar not null,
    last_moment timestamp not null
);
