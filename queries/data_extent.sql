-- name: data_extent
-- purpose: What the database holds: first and last referral, the data's as-of moment, and table sizes.
-- grain: one row
-- params:
with

referrals as (select * from referrals),

final as (
    select
        cast(min(referred_at) as date) as first_referral,
        cast(max(referred_at) as date) as last_referral,
        data_as_of() as as_of,
        count(*) as referrals,
        (select count(*) from agencies) as agencies,
        (select count(*) from programs) as programs,
        (select count(*) from partnerships) as partnerships,
        (select count(*) from outcomes) as outcomes,
        (select count(*) from capacity) as capacity_rows,
        (select count(*) from needs) as need_rows,
        (select max(imported_at) from imports) as imported_at
    from referrals
)

select * from final
