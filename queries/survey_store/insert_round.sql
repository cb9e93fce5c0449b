-- A new round.
insert into rounds values ($round_id, $name, $period_start, $period_end, $opens_on, $closes_on, null, $secret, $opened_at)
