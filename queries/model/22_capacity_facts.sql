-- capacity_facts: monthly slots with the program's service type and its agency's region and sector.
create view capacity_facts as
with

capacity as (select * from capacity),

programs as (select * from programs),

agencies as (select * from agencies),

final as (
    select
        c.*,
        p.agency_id,
        p.service_type,
        a.region,
        a.sector
    from capacity as c
    inner join programs as p on p.program_id = c.program_id
    inner join agencies as a on a.agency_id = p.agency_id
)

select * from final
