-- name: partnership_quality
-- purpose: The quality of each declared partnership beside the work it carries: its partner-survey trust and value ratings (1-4, in the manner of the PARTNER tool) and the referrals, and acceptances, between its two agencies each way in the period.
-- grain: one row per declared tie in force at any time in the period
-- params:
--   start date: first day of the period (inclusive); empty = from the beginning of the data
--   end date: last day of the period (inclusive); empty = to the end of the data
with

ties as (
    select * from partnerships_in($start, $end)
),

flows as (
    select * from flows_in($start, $end, null, null, null)
),

final as (
    select
        t.agency_a_id,
        t.agency_b_id,
        t.kind,
        t.instrument,
        t.started_on,
        t.ended_on,
        t.trust,
        t.value,
        coalesce(ab.referrals, 0) as referrals_a_to_b,
        coalesce(ba.referrals, 0) as referrals_b_to_a,
        coalesce(ab.accepted, 0) as accepted_a_to_b,
        coalesce(ba.accepted, 0) as accepted_b_to_a
    from ties as t
    left join flows as ab on ab.from_agency_id = t.agency_a_id and ab.to_agency_id = t.agency_b_id
    left join flows as ba on ba.from_agency_id = t.agency_b_id and ba.to_agency_id = t.agency_a_id
)

select * from final order by agency_a_id, agency_b_id, kind, started_on
