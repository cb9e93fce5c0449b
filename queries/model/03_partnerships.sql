-- partnerships: one row per declared tie between two agencies (undirected, as supplied).
create table partnerships (
    agency_a_id varchar not null,
    agency_b_id varchar not null,
    kind varchar not null,
    instrument varchar not null,
    started_on date not null,
    ended_on date,
    trust tinyint,
    value tinyint
)
