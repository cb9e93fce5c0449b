-- referral_months: filled once per build, after every table has its rows (see queries/model/23_referral_months.sql).
insert into referral_months
with

referrals as (
    select * from referral_facts
),

final as (
    select
        to_agency_id,
        service_type,
        referred_month,
        any_value(to_region) as to_region,
        any_value(to_sector) as to_sector,
        count(*) as referrals,
        count(declined_at) as declined,
        count(*) filter (where declined_at is not null and decline_reason = 'no_capacity') as declined_no_capacity
    from referrals
    group by to_agency_id, service_type, referred_month
)

select * from final
order by referred_month, to_agency_id, service_type
