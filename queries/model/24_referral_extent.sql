-- referral_extent: one row, the span of the referrals: first and last referral, the latest timestamp of
-- any stage (the data's "as of") and the number of referrals. Filled from referrals when a database is
-- built (queries/rollups/), so the default `as_of` of every metric is not a scan of every referral;
-- tests/test_rollups.py checks it against the raw rows.
create table referral_extent (
    first_referred_at timestamp,
    last_referred_at timestamp,
    as_of timestamp,
    referrals bigint not null
)
