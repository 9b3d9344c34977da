-- Positions observed in the partition's window (the days around %(dt)s a load may write or link: the plausibility
-- window of observed_at) whose flight_id names no flight. flight_positions is partitioned, and a partitioned InnoDB
-- table can have no foreign key: only link_positions_to_flights sets flight_id, from flights it reads in the same
-- transaction, and flights are never deleted, so this is 0; checked, not assumed. Bounded by the partition: a range
-- of the primary key (observed_at first) in one or two monthly partitions, and a primary-key lookup per linked row.
SELECT COUNT(*), GROUP_CONCAT(DISTINCT p.flight_id ORDER BY p.flight_id SEPARATOR ',')
FROM flight_positions p
LEFT JOIN flights f ON f.flight_id = p.flight_id
WHERE p.observed_at >= %(dt)s - INTERVAL 2 DAY AND p.observed_at < %(dt)s + INTERVAL 3 DAY
  AND p.flight_id IS NOT NULL AND f.flight_id IS NULL
