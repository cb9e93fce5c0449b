-- capacity: service slots a program offers in a month (month = its first day).
create table capacity (
    program_id varchar not null,
    month date not null,
    slots integer not null,
    primary key (program_id, month)
)
