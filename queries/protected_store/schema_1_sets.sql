-- sets: one row per published set worked out (the board's or the funders', for one period and min_cell): the
-- database it was worked out from (its file's mtime_ns and size, and the data model's fingerprint), how
-- (`algorithm`: the protection's version), and its pattern (JSON: which figures are hidden, never a count); `seconds`: the computation that worked it out (a year's
-- includes its quarters' when they were worked out with it).
create table if not exists sets (
    audience varchar not null,
    period_start date not null,
    period_end date not null,
    length varchar not null,
    min_cell integer not null,
    mtime_ns bigint not null,
    size bigint not null,
    model varchar not null,
    algorithm varchar not null,
    pattern varchar not null,
    seconds double not null,
    made_at timestamp not null
)
