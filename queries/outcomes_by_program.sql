-- name: outcomes_by_program
-- purpose: Positive-exit rate per program with a 95% Wilson interval, small cells suppressed.
-- grain: one row per (agency, program) with at least one exit in the period; program empty = exits recorded against the agency only
-- params:
--   start date: first day of the period, on achieved_on (inclusive); empty = from the first exit
--   end date: last day of the period, on achieved_on (inclusive); empty = to the last exit
--   region text: region of the agency; empty = all
--   service_type text: service type of the program; empty = all
--   sector text: sector of the agency; empty = all
--   min_cell int = 11: counts below this (and the rates built on them) are suppressed; 0 = director view, nothing suppressed and victim-service agencies included
with

outcomes as (
    select * from outcomes_shown($start, $end, $region, $service_type, $sector, $min_cell)
),

agencies as (select * from agencies),

programs as (select * from programs),

per_program as (
    select
        agency_id,
        program_id,
        count(*) as exits,
        count(*) filter (where is_positive) as positive
    from outcomes
    group by agency_id, program_id
),

scored as (
    select
        *,
        positive / exits as rate,
        wilson_low(positive, exits) as ci_low,
        wilson_high(positive, exits) as ci_high,
        exits < $min_cell
            or (positive > 0 and positive < $min_cell)
            or (exits - positive > 0 and exits - positive < $min_cell) as suppressed
    from per_program
),

final as (
    select
        w.agency_id,
        w.program_id,
        a.name as agency_name,
        p.name as program_name,
        p.service_type,
        p.funder,
        case when w.suppressed then null else w.exits end as exits,
        case when w.suppressed then null else w.positive end as positive,
        case when w.suppressed then null else w.rate end as rate,
        case when w.suppressed then null else w.ci_low end as ci_low,
        case when w.suppressed then null else w.ci_high end as ci_high,
        w.suppressed
    from scored as w
    inner join agencies as a on a.agency_id = w.agency_id
    left join programs as p on p.program_id = w.program_id
)

select * from final order by agency_id, program_id nulls first
