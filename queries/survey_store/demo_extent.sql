-- The last day of the demo's referrals (the demo rounds describe the last two whole years before it).
select max(cast(referred_at as date)) from referrals
