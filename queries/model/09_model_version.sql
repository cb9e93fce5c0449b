-- model_version: a fingerprint of the data model (every statement in queries/model) that built this
-- file. A database built by another version of the model is refused on open until
-- `python -m atlas upgrade` rebuilds the model over its data.
create table model_version (
    fingerprint varchar not null
)
