-- name: outcome_pathways
-- purpose: Exits and positive exits per program by the agency that referred the client in (raw counts; atlas.suppression protects them).
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

referral_facts as (select * from referral_facts),

agencies as (select * from agencies),

exits as (
    select
        row_number() over () as exit_id,
        client_id,
        agency_id,
        program_id,
        achieved_on,
        is_positive
    from outcomes
),

arrivals as (
    select client_id, to_agency_id, from_agency_id, referred_at, referral_id
    from referral_facts
    where not is_internal
),

routed as (
    -- each exit with the latest arrival of its client at its agency on or before the exit day
    -- (ties on referred_at: the highest referral_id); none on record = null
    select
        any_value(e.agency_id) as agency_id,
        any_value(e.program_id) as program_id,
        any_value(e.is_positive) as is_positive,
        arg_max(r.from_agency_id, {'at': r.referred_at, 'id': r.referral_id}) as from_agency_id
    from exits as e
    left join arrivals as r
        on r.client_id = e.client_id
        and r.to_agency_id = e.agency_id
        and cast(r.referred_at as date) <= e.achieved_on
    group by e.exit_id
),

kinds as (
    select
        r.agency_id,
        r.program_id,
        r.is_positive,
        case
            when r.from_agency_id is null then 'none'
            when a.is_victim_service and $min_cell > 0 then 'victim_service'
            else 'agency'
        end as referrer_kind,
        r.from_agency_id
    from routed as r
    left join agencies as a on a.agency_id = r.from_agency_id
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
