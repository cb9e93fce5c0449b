-- name: outcome_mix
-- purpose: Exits per program and outcome: the cells the Funders page's rates, outcome mix and totals are built from (raw counts; atlas.views.suppression protects them).
-- grain: one row per (agency, program, outcome) with at least one exit in the period; program empty = exits recorded against the agency only
-- params:
--   start date: first day of the period, on achieved_on (inclusive); empty = from the first exit
--   end date: last day of the period, on achieved_on (inclusive); empty = to the last exit
--   region text: region of the agency; empty = all
--   service_type text: service type of the program; empty = all
--   sector text: sector of the agency; empty = all
--   min_cell int = 11: above 0, victim-service agencies are left out (their exits and their names); 0 = director view, every agency included
with

outcomes as (
    select * from outcomes_shown($start, $end, $region, $service_type, $sector, $min_cell)
),

agencies as (select * from agencies),

programs as (select * from programs),

per_cell as (
    select
        agency_id,
        program_id,
        outcome,
        any_value(polarity) as polarity,
        any_value(is_housing) as is_housing,
        count(*) as exits
    from outcomes
    group by agency_id, program_id, outcome
),

final as (
    select
        c.agency_id,
        c.program_id,
        a.name as agency_name,
        p.name as program_name,
        a.region,
        a.sector,
        p.service_type,
        p.funder,
        c.outcome,
        c.polarity,
        c.polarity = 'positive' as is_positive,
        c.is_housing,
        c.exits
    from per_cell as c
    inner join agencies as a on a.agency_id = c.agency_id
    left join programs as p on p.program_id = c.program_id
)

select * from final order by agency_id, program_id nulls first, outcome
