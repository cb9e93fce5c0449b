-- name: quality_programs_without_capacity
-- purpose: Programs with no capacity row in any month: their slots are unknown, so need-versus-capacity cannot count them.
-- grain: one row per such program, by program_id (programs of victim-service agencies unnamed)
-- params:
with

programs as (select * from programs),

agencies as (select * from agencies),

capacity as (select * from capacity),

counted as (
    select distinct program_id from capacity
),

final as (
    select
        p.program_id,
        p.agency_id,
        case when a.is_victim_service then null else p.name end as name,
        p.service_type,
        a.is_victim_service
    from programs as p
    inner join agencies as a on a.agency_id = p.agency_id
    left join counted as c on c.program_id = p.program_id
    where c.program_id is null
)

select * from final order by program_id
