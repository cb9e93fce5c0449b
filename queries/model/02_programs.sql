-- programs: one row per program (a service line run by one agency).
create table programs (
    program_id varchar primary key,
    agency_id varchar not null,
    name varchar not null,
    service_type varchar not null,
    funder varchar
)
