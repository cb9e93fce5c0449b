-- The stored pattern of one set, when it was worked out from this very database by this very algorithm (a row
-- with another stamp is never read).
select pattern
from sets
where audience = $audience and period_start = $period_start and period_end = $period_end and length = $length
    and min_cell = $min_cell and mtime_ns = $mtime_ns and size = $size and model = $model
    and algorithm = $algorithm
limit 1
