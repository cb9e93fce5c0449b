-- name: data_extent
-- purpose: What the database holds: first and last referral, the data's as-of moment, and table sizes.
-- grain: one row
-- params:
with

extent as (select * from referral_extent),

final as (
    select
        cast(first_referred_at as date) as first_referral,
        cast(last_referred_at as date) as last_referral,
        as_of,
        referrals,
        (select count(*) from agencies) as agencies,
        (select count(*) from programs) as programs,
        (select count(*) from partnerships) as partnerships,
        (select count(*) from outcomes) as outcomes,
        (select count(*) from capacity) as capacity_rows,
        (select count(*) from needs) as need_rows,
        (select max(imported_at) from imports) as imported_at
    from extent
)

select * from final
