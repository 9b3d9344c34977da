-- Positions the run's load linked (observed in [%(linked_since)s, %(linked_until)s): the link's own window,
-- stages.link_window; after the load, the days around %(dt)s a load may link) whose flight_id names no flight.
-- flight_positions is partitioned, and a partitioned InnoDB table can have no foreign key: only
-- link_positions_to_flights sets flight_id, from flights it reads in the same transaction, and flights are never
-- deleted, so this is 0; checked, not assumed. Bounded by the load: a range of the primary key (observed_at first),
-- a snapshot's minute of positions rather than the days around it (at world scale 1.4 million positions a day, a
-- primary-key lookup each), and a primary-key lookup per linked row.
SELECT COUNT(*), GROUP_CONCAT(DISTINCT p.flight_id ORDER BY p.flight_id SEPARATOR ',')
FROM flight_positions p
LEFT JOIN flights f ON f.flight_id = p.flight_id
WHERE p.observed_at >= %(linked_since)s AND p.observed_at < %(linked_until)s
  AND p.flight_id IS NOT NULL AND f.flight_id IS NULL
