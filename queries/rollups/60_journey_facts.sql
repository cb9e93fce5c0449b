-- journey_facts: filled once per build with the journeys at the default gap of 30 days (see
-- queries/model/27_journey_facts.sql), in order of first referral so that a period's filter skips the row
-- groups outside it.
insert into journey_facts
select * from journey_base(30)
order by first_referred_at, client_id, journey_no
