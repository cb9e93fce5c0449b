-- data_as_of(): the latest timestamp of any stage in referrals (the default `as_of` of every metric).
create macro data_as_of() as (
    select max(greatest(referred_at, accepted_at, declined_at, started_at, completed_at))
    from referrals
)
