-- name: service_line_utilization
-- purpose: How full each agency's service lines ran: referrals received against the slots of the agency's programs of that service type.
-- grain: one row per (receiving agency, service_type) with referrals or capacity in a month of the period
-- params:
--   start date: a month is in the period when its first day is on or after this date; empty = all
--   end date: a month is in the period when its first day is on or before this date; empty = all
--   region text: the agency's region; empty = all
--   service_type text: service type (of the referral, of the program); empty = all
--   sector text: the agency's sector; empty = all
with

referrals as (
    select to_agency_id as agency_id, service_type, referred_month as month, referrals
    from referral_months
),

slots as (
    select agency_id, service_type, month, cast(sum(slots) as bigint) as slots
    from capacity_facts
    group by all
),

agencies as (
    select * from agencies
),

programs as (
    select
        agency_id,
        service_type,
        string_agg(name, '; ' order by name) as programs
    from programs
    group by all
),

lines as (
    select agency_id, service_type, month from referrals
    union
    select agency_id, service_type, month from slots
),

scoped as (
    select l.*
    from lines as l
    inner join agencies as a using (agency_id)
    where ($start is null or l.month >= cast($start as date))
        and ($end is null or l.month <= cast($end as date))
        and ($region is null or a.region = $region)
        and ($service_type is null or l.service_type = $service_type)
        and ($sector is null or a.sector = $sector)
),

monthly as (
    select
        s.agency_id,
        s.service_type,
        s.month,
        coalesce(r.referrals, 0) as referrals,
        coalesce(c.slots, 0) as slots
    from scoped as s
    left join referrals as r using (agency_id, service_type, month)
    left join slots as c using (agency_id, service_type, month)
),

per_line as (
    select
        agency_id,
        service_type,
        count(*) as months,
        count(*) filter (where referrals > slots) as months_over,
        cast(sum(referrals) as bigint) as referrals,
        cast(sum(slots) as bigint) as slots,
        sum(referrals) / nullif(sum(slots), 0) as utilization,
        max(referrals / nullif(slots, 0)) as peak_utilization
    from monthly
    group by all
),

final as (
    select
        l.agency_id,
        a.name,
        a.sector,
        a.region,
        a.is_victim_service,
        l.service_type,
        p.programs,
        l.months,
        l.months_over,
        l.referrals,
        l.slots,
        l.utilization,
        l.peak_utilization
    from per_line as l
    inner join agencies as a using (agency_id)
    left join programs as p using (agency_id, service_type)
)

select * from final
order by utilization desc nulls last, referrals desc, agency_id, service_type
