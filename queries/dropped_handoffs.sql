-- name: dropped_handoffs
-- purpose: Dropped hand-offs per referring agency: declined referrals after which nobody referred the client again within handoff_days, charged to the referrer (who still held the client).
-- grain: one row per referring agency with at least one declined referral among the referrals of the period
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the referring agency; empty = all
--   as_of timestamp: the moment "now"; empty = the latest timestamp in the data
--   stall_days number = 14: accepted for the common parameters; not used by this measure
--   handoff_days number = 14: days after a decline within which a new referral of the client picks it up
with

clock as (
    select as_of_or_latest($as_of) as as_of, $stall_days as unused_stall_days
),

agencies as (select * from main.agencies),

declines as (
    select r.referral_id, r.client_id, r.from_agency_id, r.declined_at
    from main.referrals as r
    inner join agencies as a on a.agency_id = r.from_agency_id
    where r.declined_at is not null
        and ($start is null or r.referred_at >= cast($start as timestamp))
        and ($end is null or r.referred_at < cast($end as timestamp) + interval 1 day)
        and ($region is null or a.region = $region)
),

followed as (
    select
        d.referral_id,
        bool_or(n.referral_id is not null) as picked_up
    from declines as d
    left join main.referrals as n
        on n.client_id = d.client_id
        and n.referred_at > d.declined_at
        and epoch(n.referred_at - d.declined_at) / 86400 <= $handoff_days
    group by d.referral_id
),

judged as (
    select
        d.from_agency_id,
        epoch(c.as_of - d.declined_at) / 86400 < $handoff_days as is_open,
        f.picked_up
    from declines as d
    inner join followed as f on f.referral_id = d.referral_id
    cross join clock as c
),

final as (
    select
        j.from_agency_id as agency_id,
        a.name,
        count(*) as declines,
        count(*) filter (where j.is_open) as open,
        count(*) filter (where not j.is_open and not j.picked_up) as dropped,
        count(*) filter (where not j.is_open and j.picked_up) as picked_up,
        count(*) filter (where not j.is_open and not j.picked_up)
            / nullif(count(*) filter (where not j.is_open), 0) as dropped_share
    from judged as j
    inner join agencies as a on a.agency_id = j.from_agency_id
    group by j.from_agency_id, a.name
)

select * from final order by dropped desc, dropped_share desc nulls last, agency_id
