-- outcome_facts: every exit with its polarity, the agency's region and sector, and the program's service type.
create view outcome_facts as
with

outcomes as (select * from outcomes),

agencies as (select * from agencies),

programs as (select * from programs),

outcome_kinds as (select * from outcome_kinds),

final as (
    select
        o.*,
        k.polarity,
        k.polarity = 'positive' as is_positive,
        k.is_housing,
        cast(date_trunc('month', o.achieved_on) as date) as achieved_month,
        a.region,
        a.sector,
        a.is_victim_service,
        p.service_type
    from outcomes as o
    inner join outcome_kinds as k on k.outcome = o.outcome
    inner join agencies as a on a.agency_id = o.agency_id
    left join programs as p on p.program_id = o.program_id
)

select * from final
