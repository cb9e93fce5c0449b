-- Every set stored for this very database and algorithm, newest period first, with how long it took to work out.
select audience, period_start, period_end, length, min_cell, seconds, made_at
from sets
where mtime_ns = $mtime_ns and size = $size and model = $model and algorithm = $algorithm
order by period_start desc, length, audience, min_cell
