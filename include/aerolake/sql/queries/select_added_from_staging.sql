-- Before a publish: per month of the period column and source, the staged rows the table lacks (the ones the
-- publish adds) and the newest updated_at among the rows it writes: every staged row of an upsert (unchanged
-- ones were dropped first), only the added ones of a gap fill (for table_stats). {period}, {staging}, {table},
-- {key_match} and {written} come from the schema contract.
SELECT {period} AS period, s.source, SUM(NOT EXISTS (SELECT 1 FROM {table} t WHERE {key_match})) AS added,
       MAX(CASE WHEN {written} THEN s.updated_at END) AS newest
FROM {staging} s
GROUP BY 1, 2
