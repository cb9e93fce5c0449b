-- name: exit_people
-- purpose: The whole network's exits in a period, how many people made them, and how many were positive: the funders' headline (raw counts; atlas.views.suppression protects them).
-- grain: one row
-- params:
--   start date: first day of the period, on achieved_on (inclusive); empty = from the first exit
--   end date: last day of the period, on achieved_on (inclusive); empty = to the last exit
--   min_cell int = 11: above 0, victim-service agencies' exits are left out; 0 = director view, every agency included
with

outcomes as (
    select * from outcomes_shown($start, $end, null, null, null, $min_cell)
),

final as (
    select
        count(*) as exits,
        count(distinct client_id) as people,
        count(*) filter (where is_positive) as positive
    from outcomes
)

select * from final
