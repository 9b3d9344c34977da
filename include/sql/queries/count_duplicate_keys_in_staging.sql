-- Keys that occur more than once in one load: a data error, never merged silently.
SELECT COUNT(*) FROM (SELECT 1 FROM {staging} GROUP BY {key_columns} HAVING COUNT(*) > 1) AS dup
