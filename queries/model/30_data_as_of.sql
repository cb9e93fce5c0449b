-- data_as_of(): the latest timestamp of any stage in referrals (the default `as_of` of every metric),
-- as the build worked it out once (referral_extent).
-- Macros are expanded where they are called, so every table they read is schema-qualified
-- (main.referral_extent): a calling query's CTE of the same name must not stand in for the table.
create macro data_as_of() as (
    select as_of from main.referral_extent
)
