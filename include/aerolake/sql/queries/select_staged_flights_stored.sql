-- The stored versions of the flights staged in {staging} departing on %(dates)s (their day statistics' columns),
-- into the session's temporary table {into}: before the upsert the versions it replaces, after it the versions it
-- wrote (stores/mysql/stats.count_staged_flights). {key_match} joins on the natural key: one lookup a staged row.
CREATE TEMPORARY TABLE {into} AS
SELECT t.departure_date, t.status, t.dep_airport, t.airline_code, t.dep_delay_min, t.arr_delay_min
FROM {staging} s JOIN flights t ON {key_match}
WHERE s.departure_date IN %(dates)s
