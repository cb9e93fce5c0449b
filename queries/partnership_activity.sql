-- name: partnership_activity
-- purpose: Whether each declared partnership carries referrals (active) or exists only on paper (dormant).
-- grain: one row per declared partnership in force at any time in the period
-- params:
--   start date: first day of the period (inclusive); empty = from the beginning of the data
--   end date: last day of the period (inclusive); empty = to the end of the data
--   region text: keep partnerships where either agency is in this region; empty = all
--   service_type text: count only referrals of this service type; empty = all
--   sector text: keep partnerships where either agency is in this sector; empty = all
with

final as (
    select * from partnership_activity_in($start, $end, $region, $service_type, $sector)
)

select * from final order by status, referrals, agency_a_id, agency_b_id
