-- name: referral_trend
-- purpose: Referrals made each month and what became of them, with the month's median days to accept and to start.
-- grain: one row per month (of referred_at) with at least one referral in the period
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
--   agency_id text: only referrals to this receiving agency; empty = all
with

referrals as (
    select *
    from referrals_in($start, $end, $region, $service_type, $sector)
    where $agency_id is null or to_agency_id = $agency_id
),

final as (
    select
        referred_month as month,
        count(*) as referred,
        count(accepted_at) as accepted,
        count(declined_at) as declined,
        count(*) filter (where is_pending) as pending,
        quantile_cont(days_to_accept, 0.5) as median_days_to_accept,
        quantile_cont(days_to_start, 0.5) as median_days_to_start
    from referrals
    group by referred_month
)

select * from final order by month
