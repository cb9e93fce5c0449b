-- name: stage_durations
-- purpose: How long referrals wait in each stage: days from referral to acceptance and to service start, binned, with quantiles.
-- grain: one row per (stage, bin) with at least one referral; stage is days_to_accept or days_to_start
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

durations as (
    select 'days_to_accept' as stage, days_to_accept as days from referrals where days_to_accept is not null
    union all
    select 'days_to_start', days_to_start from referrals where days_to_start is not null
),

-- A duration falls in the bin with low <= days < high; a negative one (a stage recorded before the
-- referral) in none.
bins as (
    select * from (values
        (1, 0, 1, '< 1 day'), (2, 1, 2, '1–2 days'), (3, 2, 3, '2–3 days'), (4, 3, 5, '3–5 days'),
        (5, 5, 7, '5–7 days'), (6, 7, 14, '1–2 weeks'), (7, 14, 30, '2–4 weeks'),
        (8, 30, 60, '1–2 months'), (9, 60, 1e9, '2 months +')
    ) as t(bin, low, high, label)
),

stats as (
    select
        stage,
        count(*) as stage_total,
        quantile_cont(days, [0.25, 0.5, 0.75, 0.9]) as quantiles
    from durations
    group by stage
),

-- Counted per bin by a case on the same bounds as `bins` (a range join to `bins` costs far more).
bin_counts as (
    select
        stage,
        case
            when days < 0 then null
            when days < 1 then 1
            when days < 2 then 2
            when days < 3 then 3
            when days < 5 then 4
            when days < 7 then 5
            when days < 14 then 6
            when days < 30 then 7
            when days < 60 then 8
            when days < 1e9 then 9
        end as bin,
        count(*) as referrals
    from durations
    group by all
),

binned as (
    select c.stage, b.bin, b.label, c.referrals
    from bin_counts as c
    inner join bins as b on b.bin = c.bin
),

final as (
    select
        b.stage,
        b.bin,
        b.label,
        b.referrals,
        b.referrals / s.stage_total as share,
        s.stage_total,
        s.quantiles[1] as q1,
        s.quantiles[2] as median,
        s.quantiles[3] as q3,
        s.quantiles[4] as p90
    from binned as b
    inner join stats as s using (stage)
)

select * from final order by stage, bin
