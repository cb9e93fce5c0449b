-- name: network_summary
-- purpose: Headline figures for a period: referrals, acceptance, time to accept, stalled at the period's end, active partnerships, positive exits.
-- grain: one row
-- params:
--   start date: first day of the period (inclusive; on referred_at, achieved_on); empty = from the beginning of the data
--   end date: last day of the period (inclusive); empty = to the end of the data
--   region text: region of the receiving (or exiting) agency; empty = all
--   service_type text: service type; empty = all
--   sector text: sector of the receiving (or exiting) agency; empty = all
--   as_of timestamp: the moment stalled is judged at; a referral is stalled when at that moment it was neither accepted nor declined and older than stall_days; empty = the latest timestamp in the data
--   stall_days number = 14: days a pending referral may wait before it counts as stalled
with

referrals as (
    select * from referrals_in($start, $end, $region, $service_type, $sector)
),

outcomes as (
    select * from outcomes_in($start, $end, $region, $service_type, $sector)
),

partnerships as (
    select * from partnership_activity_in($start, $end, $region, $service_type, $sector)
),

clock as (
    select as_of_or_latest($as_of) as as_of
),

referral_figures as (
    select
        count(*) as referrals,
        count(r.accepted_at) as accepted,
        count(r.declined_at) as declined,
        quantile_cont(r.days_to_accept, 0.5) as median_days_to_accept,
        count(*) filter (
            where r.referred_at <= c.as_of
                and (r.accepted_at is null or r.accepted_at > c.as_of)
                and (r.declined_at is null or r.declined_at > c.as_of)
                and epoch(c.as_of - r.referred_at) / 86400 > $stall_days
        ) as stalled
    from referrals as r
    cross join clock as c
),

outcome_figures as (
    select
        count(*) as exits,
        count(*) filter (where is_positive) as positive_exits
    from outcomes
),

partnership_figures as (
    select
        count(*) filter (where status = 'active') as active_partnerships,
        count(*) as partnerships
    from partnerships
),

final as (
    select
        r.referrals,
        r.accepted,
        r.declined,
        r.accepted / nullif(r.accepted + r.declined, 0) as acceptance_rate,
        r.median_days_to_accept,
        r.stalled,
        p.active_partnerships,
        p.partnerships,
        o.exits,
        o.positive_exits,
        o.positive_exits / nullif(o.exits, 0) as positive_exit_rate
    from referral_figures as r
    cross join outcome_figures as o
    cross join partnership_figures as p
)

select * from final
