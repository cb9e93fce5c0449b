-- as_of_or_latest(as_of): the moment "now" of a metric: the given timestamp, or when it is null the
-- latest timestamp of any stage in referrals (data_as_of()). Every query's `as_of` parameter means this.
create macro as_of_or_latest(p_as_of) as coalesce(cast(p_as_of as timestamp), data_as_of())
