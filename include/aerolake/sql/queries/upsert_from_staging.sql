-- Publish a staged partition: insert new rows, update existing ones unless the stored row is newer
-- (the freshest observation wins, so replaying an old partition never regresses newer data; flights merge
-- by aerolake.precedence); surrogate ids of existing rows are kept.
-- {table}, {staging}, {columns}, {select_columns} and {updates} are filled from the schema contract (an
-- allow-list), never from data.
INSERT INTO {table} ({columns})
SELECT {select_columns} FROM {staging}
ON DUPLICATE KEY UPDATE {updates}
