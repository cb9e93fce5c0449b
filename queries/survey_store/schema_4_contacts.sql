-- contacts: the address each member's invitation goes to, given by the director for the round.
create table if not exists contacts (
    round_id varchar not null,
    agency_id varchar not null,
    email varchar not null,
    primary key (round_id, agency_id)
)
