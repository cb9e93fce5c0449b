-- name: housing_returns
-- purpose: Returns to homelessness after a positive housing exit: of the clients housed in the latest stretch of time that can be followed in full for 6, 12 or 24 months, how many had a returned_to_homelessness exit within that time (raw counts; atlas.views.suppression protects them).
-- grain: one row per (agency, program, horizon_months) of the clients' first positive housing exit in that horizon's window, housed_from to housed_to: the window_months ending horizon_months before as_of, so every client counted was followed for the whole horizon
-- params:
--   region text: region of the agency of the housing exit; empty = all
--   service_type text: service type of the program of the housing exit; empty = all
--   sector text: sector of the agency of the housing exit; empty = all
--   as_of timestamp: the end of follow-up; empty = the latest timestamp in the data
--   window_months int = 12: how many months of housing exits each horizon's cohort takes, ending horizon_months before as_of
--   min_cell int = 11: above 0, housing exits at victim-service agencies are left out; 0 = director view, every agency included
with

outcomes as (
    select *
    from outcomes_in(null, null, $region, $service_type, $sector)
    where ($min_cell = 0 or not is_victim_service) and is_positive and is_housing
),

outcome_facts as (select * from outcome_facts),

clock as (
    select cast(as_of_or_latest($as_of) as date) as as_of
),

horizons as (
    select unnest([6, 12, 24]) as horizon_months
),

windows as (
    select
        z.horizon_months,
        cast(c.as_of - to_months(z.horizon_months) as date) as window_end,
        cast(c.as_of - to_months(z.horizon_months + $window_months) as date) as window_start
    from horizons as z
    cross join clock as c
),

followed as (
    select
        o.client_id,
        o.agency_id,
        o.program_id,
        o.achieved_on,
        w.horizon_months,
        w.window_start,
        w.window_end,
        cast(o.achieved_on + to_months(w.horizon_months) as date) as horizon_end
    from outcomes as o
    inner join windows as w
        on o.achieved_on > w.window_start
        and o.achieved_on <= w.window_end
    qualify row_number() over (
        partition by w.horizon_months, o.client_id
        order by o.achieved_on, o.agency_id, o.program_id nulls last
    ) = 1
),

returns as (
    select f.client_id, f.horizon_months, f.achieved_on
    from followed as f
    inner join outcome_facts as r
        on r.client_id = f.client_id
        and r.outcome = 'returned_to_homelessness'
        and r.achieved_on > f.achieved_on
        and r.achieved_on <= f.horizon_end
    group by all
),

final as (
    select
        f.agency_id,
        f.program_id,
        f.horizon_months,
        f.window_start + 1 as housed_from,
        f.window_end as housed_to,
        count(*) as followed,
        count(r.client_id) as returned
    from followed as f
    left join returns as r
        on r.client_id = f.client_id
        and r.horizon_months = f.horizon_months
    group by all
)

select * from final order by agency_id, program_id nulls first, horizon_months
