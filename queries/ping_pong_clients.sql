-- name: ping_pong_clients
-- purpose: Clients bounced between agencies: referred min_referrals or more times within window_days without any of those referrals leading to a service start.
-- grain: one row per client (pseudonymous client_id) with at least one flagged run of referrals made in the period: the referrals in its runs, the agencies that sent or received them (count, and ids and names as JSON arrays in text), first and last referral
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: keep clients with a flagged referral to an agency in this region; empty = all
--   service_type text: keep clients with a flagged referral of this service type; empty = all
--   sector text: keep clients with a flagged referral to an agency in this sector; empty = all
--   window_days number = 30: the longest time, in days, from the first to the last referral of a flagged run (inclusive)
--   min_referrals int = 3: how many referrals without a start within window_days make a run (at least 1)
with

-- Every referral of the period, whatever its agencies or service: a client's bouncing crosses them.
-- Not materialized: it is read twice, and each read then scans only the columns it needs.
referrals as not materialized (
    select * from referrals_in($start, $end, null, null, null)
),

agencies as (select * from agencies),

-- Only a client with at least min_referrals referrals that never started can have a run. Counted
-- per hash of the pseudonym (a number groups much faster than the text): two clients sharing a hash
-- only let more clients through to the exact test below, never fewer.
candidates as (
    select hash(client_id) as client_hash
    from referrals
    where started_at is null
    group by client_hash
    having count(*) >= greatest($min_referrals, 1)
),

-- A run is min_referrals consecutive referrals of a client (in time order) that span at most
-- window_days and of which none started; a started referral in between breaks it. A referral
-- opens a run when it and the next min_referrals - 1 referrals form one.
openers as (
    select
        r.referral_id,
        r.client_id,
        r.from_agency_id,
        r.to_agency_id,
        r.service_type,
        r.referred_at,
        r.declined_at,
        r.is_pending,
        r.to_region,
        r.to_sector,
        coalesce(
            r.started_at is null
                and count(r.started_at) over (
                    w rows between current row and greatest($min_referrals, 1) - 1 following
                ) = 0
                and epoch(
                    lead(r.referred_at, greatest($min_referrals, 1) - 1) over w - r.referred_at
                ) / 86400 <= $window_days,
            false
        ) as opens_run
    from referrals as r
    semi join candidates as c on c.client_hash = hash(r.client_id)
    window w as (partition by r.client_id order by r.referred_at, r.referral_id)
),

-- A referral is flagged when it lies in a run: one of the min_referrals - 1 referrals before it,
-- or itself, opens one.
runs as (
    select
        *,
        bool_or(opens_run) over (
            partition by client_id order by referred_at, referral_id
            rows between greatest($min_referrals, 1) - 1 preceding and current row
        ) as in_run
    from openers
),

flagged as (
    select * exclude (opens_run, in_run)
    from runs
    where in_run
),

clients as (
    select client_id
    from flagged
    where ($region is null or to_region = $region)
        and ($service_type is null or service_type = $service_type)
        and ($sector is null or to_sector = $sector)
    group by client_id
),

involved as (
    select distinct e.client_id, a.agency_id, a.name
    from (
        select client_id, from_agency_id as agency_id from flagged
        union all
        select client_id, to_agency_id from flagged
    ) as e
    inner join agencies as a on a.agency_id = e.agency_id
),

per_client as (
    select
        client_id,
        count(*) as referrals,
        count(declined_at) as declined,
        count(*) filter (where is_pending) as pending,
        min(referred_at) as first_referred_at,
        max(referred_at) as last_referred_at
    from flagged
    group by client_id
),

-- The agencies as JSON arrays in text (flat columns print and export everywhere), in the same
-- order: by name, then id.
agency_lists as (
    select
        client_id,
        count(*) as agencies,
        list_sort(list({'name': name, 'agency_id': agency_id})) as sorted
    from involved
    group by client_id
),

final as (
    select
        p.client_id,
        p.referrals,
        l.agencies,
        cast(to_json(list_transform(l.sorted, lambda a: a.agency_id)) as varchar) as agency_ids,
        cast(to_json(list_transform(l.sorted, lambda a: a.name)) as varchar) as agency_names,
        p.declined,
        p.pending,
        p.first_referred_at,
        p.last_referred_at,
        epoch(p.last_referred_at - p.first_referred_at) / 86400 as span_days
    from per_client as p
    inner join clients as c on c.client_id = p.client_id
    inner join agency_lists as l on l.client_id = p.client_id
)

select * from final order by referrals desc, first_referred_at, client_id
