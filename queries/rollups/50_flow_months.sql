-- flow_months: filled once per build, after referral_facts (see queries/model/25_flow_months.sql).
insert into flow_months
with

referrals as (
    select * from referral_facts
),

final as (
    select
        from_agency_id,
        to_agency_id,
        service_type,
        referred_month,
        any_value(to_region) as to_region,
        any_value(to_sector) as to_sector,
        count(*) as referrals,
        count(accepted_at) as accepted
    from referrals
    where not is_internal
    group by from_agency_id, to_agency_id, service_type, referred_month
)

select * from final
order by referred_month, from_agency_id, to_agency_id, service_type
