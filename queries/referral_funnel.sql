-- name: referral_funnel
-- purpose: How many referrals made in the period reached each stage of the referral path.
-- grain: one row per stage, in path order: referred, accepted, started, completed, declined, pending
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
with

referrals as (
    select * from referrals_in($start, $end, $region, $service_type, $sector)
),

counts as (
    select
        count(*) as referred,
        count(accepted_at) as accepted,
        count(started_at) as started,
        count(completed_at) as completed,
        count(declined_at) as declined,
        count(*) filter (where is_pending) as pending
    from referrals
),

stages as (
    unpivot counts
    on referred, accepted, started, completed, declined, pending
    into name stage value referrals
),

stage_order as (
    select * from (values
        ('referred', 1), ('accepted', 2), ('started', 3),
        ('completed', 4), ('declined', 5), ('pending', 6)
    ) as t(stage, position)
),

final as (
    select o.position, s.stage, s.referrals
    from stages as s
    inner join stage_order as o on o.stage = s.stage
)

select * from final order by position
