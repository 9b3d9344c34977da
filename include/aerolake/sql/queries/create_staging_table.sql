-- A session-private staging table with the target's load columns and types but no keys: loading it is a
-- plain append (a key twice in one load is found while the load file is written, then keys are enforced by the upsert).
CREATE TEMPORARY TABLE {staging} AS SELECT {columns} FROM {table} WHERE 1 = 0
