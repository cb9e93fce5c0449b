-- name: quality_outcomes_never_referred
-- purpose: Exits (outcomes) of clients who appear in no referral: client ids that do not link, often a different id scheme or key.
-- grain: one row per such outcome row, by pseudonymous client_id
-- params:
with

outcomes as (select * from outcomes),

referrals as (select * from referrals),

referred as (
    select distinct client_id from referrals
),

final as (
    select o.client_id, o.agency_id, o.program_id, o.outcome, o.achieved_on
    from outcomes as o
    left join referred as r on r.client_id = o.client_id
    where r.client_id is null
)

select * from final order by client_id, achieved_on, agency_id
