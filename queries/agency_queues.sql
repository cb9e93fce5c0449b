-- name: agency_queues
-- purpose: Each receiving agency as a queue: arrivals and decisions per week, the backlog of undecided referrals at the period's start and end, and the wait Little's law implies.
-- grain: one row per receiving agency with any arrival, decision or undecided referral in the period (internal referrals included)
-- params:
--   start date: first day of the period (inclusive); empty = the day of the first referral in the data
--   end date: last day of the period (inclusive); the period stops at the end of this day or at as_of, whichever is earlier; empty = at as_of
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
--   as_of timestamp: the moment the data is known up to; events after it have not happened; empty = the latest timestamp in the data
with

-- The clock comes first, so that its first referral is the whole table's, not the filtered CTE's.
-- The period runs from period_start (inclusive) to the end of the end day (exclusive) or to as_of
-- (inclusive: an event at as_of has happened), whichever comes first.
clock as (
    select
        coalesce(
            cast($start as timestamp),
            (select cast(cast(min(referred_at) as date) as timestamp) from referrals)
        ) as period_start,
        as_of_or_latest($as_of) as as_of,
        cast($end as timestamp) + interval 1 day as end_exclusive
),

-- Only referrals that can count: one made before the period began and decided before it began, on
-- or before as_of and before the end of the end day, is in no count below (most of the history), so
-- it is left out here, in one test on the stored rows before anything is joined. An undecided one
-- counts as decided at 'infinity'; a decision after as_of is one at or after as_of plus a microsecond
-- (timestamps' resolution); least() passes over a bound not given, and with no as_of given nothing
-- is decided after the latest timestamp in the data.
referrals as (
    select *
    from referrals_in(null, null, $region, $service_type, $sector)
    where $start is null
        or referred_at >= cast($start as timestamp)
        or coalesce(accepted_at, declined_at, timestamp 'infinity') >= least(
            cast($start as timestamp),
            cast($end as timestamp) + interval 1 day,
            cast($as_of as timestamp) + interval 1 microsecond
        )
),

agencies as (select * from agencies),

period as (
    select
        period_start,
        as_of,
        end_exclusive,
        greatest(epoch(least(coalesce(end_exclusive, as_of), as_of) - period_start), 0)
            / 86400 / 7 as weeks
    from clock
),

decisions as (
    select
        to_agency_id as agency_id,
        referred_at,
        coalesce(accepted_at, declined_at) as decided_at
    from referrals
),

-- Whether each moment was reached by the period's end: on or before as_of, and before the end of
-- the end day.
events as (
    select
        d.agency_id,
        d.referred_at,
        d.decided_at,
        w.period_start,
        w.weeks,
        d.referred_at <= w.as_of
            and (w.end_exclusive is null or d.referred_at < w.end_exclusive) as referred_by_end,
        d.decided_at is not null
            and d.decided_at <= w.as_of
            and (w.end_exclusive is null or d.decided_at < w.end_exclusive) as decided_by_end
    from decisions as d
    cross join period as w
),

per_agency as (
    select
        agency_id,
        any_value(weeks) as weeks,
        count(*) filter (where referred_at >= period_start and referred_by_end) as arrivals,
        count(*) filter (where decided_at >= period_start and decided_by_end) as throughput,
        count(*) filter (
            where referred_at < period_start and (decided_at is null or decided_at >= period_start)
        ) as backlog_start,
        count(*) filter (where referred_by_end and not decided_by_end) as backlog_end
    from events
    group by agency_id
),

rates as (
    select
        *,
        arrivals / nullif(weeks, 0) as arrivals_per_week,
        throughput / nullif(weeks, 0) as throughput_per_week,
        backlog_end - backlog_start as backlog_change
    from per_agency
    where arrivals > 0 or throughput > 0 or backlog_start > 0 or backlog_end > 0
),

final as (
    select
        r.agency_id,
        a.name,
        a.sector,
        a.region,
        a.is_victim_service,
        r.weeks,
        r.arrivals,
        r.throughput,
        r.arrivals_per_week,
        r.throughput_per_week,
        r.backlog_start,
        r.backlog_end,
        r.backlog_change,
        r.backlog_end / nullif(r.throughput_per_week, 0) * 7 as implied_wait_days,
        r.arrivals > r.throughput as growing
    from rates as r
    inner join agencies as a on a.agency_id = r.agency_id
)

select * from final order by implied_wait_days desc nulls last, backlog_end desc, agency_id
