-- A session-private staging table shaped like its target (no foreign keys; dropped with the session).
CREATE TEMPORARY TABLE {staging} LIKE {table}
