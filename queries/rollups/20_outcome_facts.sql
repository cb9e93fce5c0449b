-- outcome_facts: filled once per build, after referral_facts (see queries/model/21_outcome_facts.sql),
-- in order of exit so that a period's filter skips the row groups outside it.
insert into outcome_facts
with

outcomes as (select * from outcomes),

agencies as (select * from agencies),

programs as (select * from programs),

outcome_kinds as (select * from outcome_kinds),

referral_facts as (select * from referral_facts),

exits as materialized (  -- numbered once, read twice
    select row_number() over () as exit_id, *
    from outcomes
),

arrivals as (
    select client_id, to_agency_id, from_agency_id, referred_at, referral_id
    from referral_facts
    where not is_internal
),

routed as (
    -- each exit's referrer of record: the agency of its client's latest referral to the exiting
    -- agency from another agency made on or before the exit day (ties on referred_at: the highest
    -- referral_id); none on record = null
    select
        e.exit_id,
        arg_max(r.from_agency_id, {'at': r.referred_at, 'id': r.referral_id}) as referred_by_agency_id
    from exits as e
    inner join arrivals as r
        on r.client_id = e.client_id
        and r.to_agency_id = e.agency_id
        and cast(r.referred_at as date) <= e.achieved_on
    group by e.exit_id
),

final as (
    select
        o.client_id,
        o.agency_id,
        o.program_id,
        o.outcome,
        o.achieved_on,
        k.polarity,
        k.polarity = 'positive' as is_positive,
        k.is_housing,
        cast(date_trunc('month', o.achieved_on) as date) as achieved_month,
        a.region,
        a.sector,
        a.is_victim_service,
        p.service_type,
        x.referred_by_agency_id
    from exits as o
    inner join outcome_kinds as k on k.outcome = o.outcome
    inner join agencies as a on a.agency_id = o.agency_id
    left join programs as p on p.program_id = o.program_id
    left join routed as x on x.exit_id = o.exit_id
)

select * from final
order by achieved_on, agency_id, client_id
