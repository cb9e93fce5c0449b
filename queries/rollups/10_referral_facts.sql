-- referral_facts: filled once per build, after every table has its rows (see queries/model/20_referral_facts.sql),
-- in order of referral so that a period's filter skips the row groups outside it. The referrals are put in order
-- before the agencies are joined: sorting the narrow rows is half the work of sorting the wide ones (11.6 s
-- against 24 s at 10M referrals), and the join keeps their order but for a few rows where the threads' batches
-- meet, which the row groups' ranges do not notice (tests/test_rollups.py).
insert into referral_facts
with

referrals as (select * from referrals order by referred_at, referral_id),

agencies as (select * from agencies),

final as (
    select
        r.*,
        r.from_agency_id = r.to_agency_id as is_internal,
        case
            when r.declined_at is not null then 'declined'
            when r.completed_at is not null then 'completed'
            when r.started_at is not null then 'started'
            when r.accepted_at is not null then 'accepted'
            else 'pending'
        end as status,
        r.accepted_at is null and r.declined_at is null as is_pending,
        epoch(r.accepted_at - r.referred_at) / 86400 as days_to_accept,
        epoch(r.declined_at - r.referred_at) / 86400 as days_to_decline,
        epoch(r.started_at - r.referred_at) / 86400 as days_to_start,
        epoch(r.completed_at - r.started_at) / 86400 as days_in_service,
        cast(date_trunc('month', r.referred_at) as date) as referred_month,
        fa.region as from_region,
        fa.sector as from_sector,
        fa.is_victim_service as from_victim_service,
        ta.region as to_region,
        ta.sector as to_sector,
        ta.is_victim_service as to_victim_service
    from referrals as r
    inner join agencies as fa on fa.agency_id = r.from_agency_id
    inner join agencies as ta on ta.agency_id = r.to_agency_id
)

select * from final
