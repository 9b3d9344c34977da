-- Set the state of every endpoint row of one run (see migration 0006 for the states).
UPDATE pipeline_runs
SET status = %(state)s, last_stage = %(stage)s, error = %(error)s, finished_at = %(now)s
WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s
