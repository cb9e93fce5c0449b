-- referral_extent: filled once per build, after every table has its rows (see queries/model/24_referral_extent.sql).
insert into referral_extent
with

referrals as (
    select * from referrals
),

final as (
    select
        min(referred_at) as first_referred_at,
        max(referred_at) as last_referred_at,
        max(greatest(referred_at, accepted_at, declined_at, started_at, completed_at)) as as_of,
        count(*) as referrals
    from referrals
)

select * from final
