-- Natural keys that occur more than once (the UNIQUE key should make this 0; checked, not assumed).
SELECT COUNT(*) FROM (
    SELECT 1 FROM {table} GROUP BY {key_columns} HAVING COUNT(*) > 1
) AS dup
