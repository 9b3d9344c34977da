-- A session-private staging table with the target's load columns and types but no keys: loading it is a
-- plain append (keys are checked by count_duplicate_keys_in_staging.sql, then enforced by the upsert).
CREATE TEMPORARY TABLE {staging} AS SELECT {columns} FROM {table} WHERE 1 = 0
