-- referrals: one row per referral of one client from one agency to another.
-- client_id holds the keyed HMAC pseudonym, never the value that was imported.
create table referrals (
    referral_id varchar primary key,
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
    completed_at timestamp
)
