-- outcomes: one row per client exit from an agency or program; client_id is the HMAC pseudonym.
create table outcomes (
    client_id varchar not null,
    agency_id varchar not null,
    program_id varchar,
    outcome varchar not null,
    achieved_on date not null
)
