-- rounds: one row per survey round; `secret` keys the HMAC of each member's link (never shown, never exported).
create table if not exists rounds (
    round_id varchar primary key,
    name varchar not null,
    period_start date not null,
    period_end date not null,
    opens_on date not null,
    closes_on date not null,
    closed_on date,
    secret varchar not null,
    opened_at timestamp not null
)
