-- name: quality_completeness
-- purpose: How complete each column of each table is: rows, rows with a value, and the share filled.
-- grain: one row per table and column, in table and column order
-- params:
with

agencies as (select count(columns(*)) from agencies),
programs as (select count(columns(*)) from programs),
partnerships as (select count(columns(*)) from partnerships),
referrals as (select count(columns(*)) from referrals),
outcomes as (select count(columns(*)) from outcomes),
capacity as (select count(columns(*)) from capacity),
needs as (select count(columns(*)) from needs),

table_rows as (
    select 'agencies' as table_name, 1 as table_order, count(*) as total_rows from main.agencies
    union all select 'programs', 2, count(*) from main.programs
    union all select 'partnerships', 3, count(*) from main.partnerships
    union all select 'referrals', 4, count(*) from main.referrals
    union all select 'outcomes', 5, count(*) from main.outcomes
    union all select 'capacity', 6, count(*) from main.capacity
    union all select 'needs', 7, count(*) from main.needs
),

filled as (
    select 'agencies' as table_name, * from (unpivot agencies on columns(*) into name column_name value filled_rows)
    union all select 'programs', * from (unpivot programs on columns(*) into name column_name value filled_rows)
    union all select 'partnerships', * from (unpivot partnerships on columns(*) into name column_name value filled_rows)
    union all select 'referrals', * from (unpivot referrals on columns(*) into name column_name value filled_rows)
    union all select 'outcomes', * from (unpivot outcomes on columns(*) into name column_name value filled_rows)
    union all select 'capacity', * from (unpivot capacity on columns(*) into name column_name value filled_rows)
    union all select 'needs', * from (unpivot needs on columns(*) into name column_name value filled_rows)
),

positions as (
    select table_name, column_name, column_index
    from duckdb_columns()
    where database_name = current_database() and schema_name = 'main'
),

final as (
    select
        f.table_name,
        f.column_name,
        t.total_rows,
        f.filled_rows,
        f.filled_rows / nullif(t.total_rows, 0) as share_filled,
        t.table_order,
        p.column_index
    from filled as f
    inner join table_rows as t on t.table_name = f.table_name
    inner join positions as p on p.table_name = f.table_name and p.column_name = f.column_name
)

select table_name, column_name, total_rows, filled_rows, share_filled
from final
order by table_order, column_index
