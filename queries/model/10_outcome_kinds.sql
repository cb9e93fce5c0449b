-- outcome_kinds: the polarity of every outcome value of the import contract, filled at build time
-- from atlas.ingest.contract so the list is stated once.
create table outcome_kinds (
    outcome varchar primary key,
    polarity varchar not null,
    is_housing boolean not null
)
