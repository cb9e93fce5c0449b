-- name: sector_friction
-- purpose: Friction between sectors: for each ordered pair (referrer's sector -> receiver's), the decline rate of its decided referrals against the period's, and whether the pair and its reverse turn each other down (mutual).
-- grain: one row per ordered sector pair with at least one decided referral among the referrals of the period
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the referring agency; empty = all
--   as_of timestamp: accepted for the common parameters; a decision counts whenever it was made
--   stall_days number = 14: accepted for the common parameters; not used by this measure
--   min_decided number = 30: decided referrals a pair needs in each direction to be a mutual friction pair
with

agencies as (select * from main.agencies),

decided as (
    select
        fa.sector as from_sector,
        ta.sector as to_sector,
        r.declined_at is not null as is_declined
    from main.referrals as r
    inner join agencies as fa on fa.agency_id = r.from_agency_id
    inner join agencies as ta on ta.agency_id = r.to_agency_id
    where (r.accepted_at is not null or r.declined_at is not null)
        and ($start is null or r.referred_at >= cast($start as timestamp))
        and ($end is null or r.referred_at < cast($end as timestamp) + interval 1 day)
        and ($region is null or fa.region = $region)
        and ($as_of is null or $as_of is not null)
        and ($stall_days is null or $stall_days is not null)
),

overall as (
    select count(*) filter (where is_declined) / count(*) as decline_rate from decided
),

pairs as (
    select
        d.from_sector,
        d.to_sector,
        count(*) as decided,
        count(*) filter (where d.is_declined) as declined,
        count(*) filter (where d.is_declined) / count(*) as decline_rate,
        count(*) filter (where d.is_declined) / count(*) / nullif(o.decline_rate, 0) as ratio
    from decided as d
    cross join overall as o
    group by d.from_sector, d.to_sector, o.decline_rate
),

qualified as (
    select *, decided >= $min_decided and ratio >= 1.5 as qualifies
    from pairs
),

final as (
    select
        q.from_sector,
        q.to_sector,
        q.decided,
        q.declined,
        q.decline_rate,
        q.ratio,
        coalesce(q.qualifies and b.qualifies, false) as mutual
    from qualified as q
    left join qualified as b on b.from_sector = q.to_sector and b.to_sector = q.from_sector
)

select * from final order by ratio desc, from_sector, to_sector
