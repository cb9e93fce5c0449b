-- Every round, newest period first.
select round_id, name, period_start, period_end, opens_on, closes_on, closed_on, secret
from rounds
order by period_end desc, period_start desc, round_id
