-- referrals: one row per referral of one client from one agency to another.
-- client_id holds the keyed HMAC pseudonym, never the value that was imported.
-- referral_id is unique: the importer refuses a file that repeats one before any row is written
-- (validate._duplicate_keys). No primary-key index on top: at ten million referrals it cost 20 s of
-- every import and 390 MB of the file, and no query looks a referral up by its id.
create table referrals (
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
    lead_agency_id varchar
)
