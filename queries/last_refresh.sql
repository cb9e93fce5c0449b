-- name: last_refresh
-- purpose: The latest refresh from the inbox (`python -m atlas refresh`): when it started and finished, which export (entry, format, checksum), replace or append (mode), its result (running, imported, unchanged, skipped or failed) and what it says of it (message), rows written, problems found, and where the export went (moved_to, report).
-- grain: one row, the refresh begun last (the highest `seq`, its number in the log); none before the first. Read from the refresh log beside the database (a JSON line a refresh), not from the database: a failed refresh is recorded without touching the data.
-- params:
--   log file = /dev/null: path of the refresh log (atlas.config.refresh_log); the default, an empty log, gives no row
with

refreshes as (
    select *
    from read_json(
        $log,
        format = 'newline_delimited',
        columns = {
            id: 'varchar', seq: 'bigint', started_at: 'timestamp', finished_at: 'timestamp', entry: 'varchar',
            format: 'varchar', checksum: 'varchar', mode: 'varchar', result: 'varchar', message: 'varchar',
            rows: 'bigint', problems: 'bigint', moved_to: 'varchar', report: 'varchar'
        }
    )
),

final as (
    select
        started_at,
        finished_at,
        entry,
        format,
        checksum,
        mode,
        result,
        message,
        rows,
        problems,
        moved_to,
        report
    from refreshes
    order by seq desc nulls last, started_at desc
    limit 1
)

select * from final
