-- name: outcome_pathways
-- purpose: Exits and positive exits per program by the agency that referred the client in (raw counts; atlas.views.suppression protects them).
-- grain: one row per (agency, program, referring agency) with at least one exit in the period; the referring agency is that of the client's latest referral to the exiting agency from another agency, made on or before the exit day; none on record = referrer_kind 'none'
-- params:
--   start date: first day of the period, on achieved_on (inclusive); empty = from the first exit
--   end date: last day of the period, on achieved_on (inclusive); empty = to the last exit
--   region text: region of the exiting agency; empty = all
--   service_type text: service type of the program; empty = all
--   sector text: sector of the exiting agency; empty = all
--   min_cell int = 11: above 0, victim-service agencies are left out as exiting agencies and pooled, unnamed, as referrers (referrer_kind 'victim_service'); 0 = director view, every agency named
with

outcomes as (
    select * from outcomes_shown($start, $end, $region, $service_type, $sector, $min_cell)
),

agencies as (select * from agencies),

kinds as (
    -- the referrer of record of each exit is worked out once per import (outcome_facts)
    select
        o.agency_id,
        o.program_id,
        o.is_positive,
        case
            when o.referred_by_agency_id is null then 'none'
            when a.is_victim_service and $min_cell > 0 then 'victim_service'
            else 'agency'
        end as referrer_kind,
        o.referred_by_agency_id as from_agency_id
    from outcomes as o
    left join agencies as a on a.agency_id = o.referred_by_agency_id
),

per_route as (
    select
        agency_id,
        program_id,
        referrer_kind,
        case when referrer_kind = 'agency' then from_agency_id end as referrer_id,
        count(*) as exits,
        count(*) filter (where is_positive) as positive
    from kinds
    group by all
),

final as (
    select
        p.agency_id,
        p.program_id,
        p.referrer_kind,
        p.referrer_id,
        a.name as referrer_name,
        a.sector as referrer_sector,
        p.exits,
        p.positive
    from per_route as p
    left join agencies as a on a.agency_id = p.referrer_id
)

select * from final order by agency_id, program_id nulls first, referrer_kind, referrer_id
