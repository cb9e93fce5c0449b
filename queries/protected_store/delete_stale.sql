-- Every set worked out from another database (an earlier import) or by another algorithm: replaced, never read.
delete from sets
where not (mtime_ns = $mtime_ns and size = $size and model = $model and algorithm = $algorithm)
