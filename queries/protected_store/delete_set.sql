-- One set's row (before it is written again).
delete from sets
where audience = $audience and period_start = $period_start and period_end = $period_end and length = $length
    and min_cell = $min_cell
