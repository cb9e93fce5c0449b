-- name: filter_choices
-- purpose: The values the shared filters offer: regions and sectors of agencies, service types in use.
-- grain: one row per (dimension, value)
-- params:
with

agencies as (select * from agencies),

service_types as (
    select service_type from referrals
    union
    select service_type from programs
    union
    select service_type from needs
),

final as (
    select distinct 'region' as dimension, region as value from agencies
    union all
    select distinct 'sector', sector from agencies
    union all
    select distinct 'service_type', service_type from service_types
)

select * from final order by dimension, value
