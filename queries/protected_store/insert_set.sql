-- One set's pattern, stamped with the database and algorithm it was worked out from.
insert into sets values ($audience, $period_start, $period_end, $length, $min_cell, $mtime_ns, $size, $model,
    $algorithm, $pattern, $seconds, current_localtimestamp())
