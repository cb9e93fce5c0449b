-- name: quality_ended_agency_partnerships
-- purpose: Partnerships still in force with an agency that has ended: one with referral activity, but none in the last `ended_days` days before as_of.
-- grain: one row per partnership and ended agency in it (a partnership of two ended agencies has two)
-- params:
--   as_of timestamp: the moment "now"; empty = the latest timestamp in the data
--   ended_days number = 365: an agency whose last referral activity is more than this many days before as_of has ended
with

referrals as (select * from referrals),

partnerships as (select * from partnerships),

clock as (
    select as_of_or_latest($as_of) as as_of
),

steps as (
    select
        from_agency_id as agency_id,
        greatest(referred_at, accepted_at, declined_at, started_at, completed_at) as happened_at
    from referrals
    union all
    select
        to_agency_id as agency_id,
        greatest(referred_at, accepted_at, declined_at, started_at, completed_at) as happened_at
    from referrals
),

last_activity as (
    select agency_id, max(happened_at) as last_activity
    from steps
    group by agency_id
),

ended as (
    select l.agency_id, l.last_activity
    from last_activity as l
    cross join clock as c
    where epoch(c.as_of - l.last_activity) / 86400 > $ended_days
),

final as (
    select
        p.agency_a_id,
        p.agency_b_id,
        p.kind,
        p.instrument,
        p.started_on,
        p.ended_on,
        e.agency_id as ended_agency_id,
        cast(e.last_activity as date) as last_activity
    from partnerships as p
    inner join ended as e on e.agency_id in (p.agency_a_id, p.agency_b_id)
    where p.ended_on is null or p.ended_on > cast(e.last_activity as date)
)

select * from final order by ended_agency_id, agency_a_id, agency_b_id, started_on
