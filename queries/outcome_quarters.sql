-- name: outcome_quarters
-- purpose: Exits and positive exits per program and calendar quarter, for the Funders page's trend (raw counts; atlas.views.suppression protects them).
-- grain: one row per (agency, program, quarter) with at least one exit in the period; program empty = exits recorded against the agency only
-- params:
--   start date: first day of the period, on achieved_on (inclusive); empty = from the first exit
--   end date: last day of the period, on achieved_on (inclusive); empty = to the last exit
--   region text: region of the agency; empty = all
--   service_type text: service type of the program; empty = all
--   sector text: sector of the agency; empty = all
--   min_cell int = 11: above 0, victim-service agencies are left out; 0 = director view, every agency included
with

outcomes as (
    select * from outcomes_shown($start, $end, $region, $service_type, $sector, $min_cell)
),

programs as (select * from programs),

per_quarter as (
    select
        agency_id,
        program_id,
        cast(date_trunc('quarter', achieved_on) as date) as quarter,
        count(*) as exits,
        count(*) filter (where is_positive) as positive
    from outcomes
    group by agency_id, program_id, quarter
),

final as (
    select
        q.agency_id,
        q.program_id,
        p.funder,
        q.quarter,
        q.exits,
        q.positive
    from per_quarter as q
    left join programs as p on p.program_id = q.program_id
)

select * from final order by agency_id, program_id nulls first, quarter
