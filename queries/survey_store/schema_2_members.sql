-- members: the organizations invited to a round, with the name and victim-service flag they had when
-- invited, so a link resolves and a partner list is drawn without the imported data.
create table if not exists members (
    round_id varchar not null,
    agency_id varchar not null,
    name varchar not null,
    victim_service boolean not null,
    primary key (round_id, agency_id)
)
