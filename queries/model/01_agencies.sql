-- agencies: one row per agency in the network (contract table `agencies`).
create table agencies (
    agency_id varchar primary key,
    name varchar not null,
    sector varchar not null,
    region varchar not null,
    is_victim_service boolean not null default false
)
