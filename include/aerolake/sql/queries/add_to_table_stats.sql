-- Count a publish's added rows and its newest updated_at into table_stats, in the publish's transaction.
INSERT INTO table_stats (table_name, period, source, row_count, newest) VALUES (%s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE row_count = row_count + VALUES(row_count),
                        newest = GREATEST(COALESCE(newest, VALUES(newest)), COALESCE(VALUES(newest), newest))
