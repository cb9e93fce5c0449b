-- data_as_of(): the latest timestamp of any stage in referrals (the default `as_of` of every metric).
-- Macros are expanded where they are called, so every table they read is schema-qualified
-- (main.referrals): a calling query's CTE of the same name must not stand in for the table.
create macro data_as_of() as (
    select max(greatest(referred_at, accepted_at, declined_at, started_at, completed_at))
    from main.referrals
)
