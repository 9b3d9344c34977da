-- Fill reference gaps (e.g. airports from airportsdata) without overwriting rows an API already provided.
INSERT INTO {table} ({columns})
SELECT {select_columns} FROM {staging} s
WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {key_match})
