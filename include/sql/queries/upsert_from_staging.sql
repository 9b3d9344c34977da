-- Publish a staged partition: insert new rows, update changed ones, keep the surrogate ids of existing rows.
-- {table}, {staging}, {columns} and {updates} are filled from the schema contract (an allow-list), never from data.
INSERT INTO {table} ({columns})
SELECT {columns} FROM {staging}
ON DUPLICATE KEY UPDATE {updates}
