-- Add ({sign} '') or take away ({sign} '-') the flights of {rows} (flights, or a session's temporary table of some;
-- {condition} may bound them) in flight_day_stats, one dimension a statement ({dimension}; MySQL reads a temporary
-- table once per statement; stores/mysql/stats.py): per date and status ('status'), per date and origin or
-- airline of the flights with a known departure delay ('dep_airport', 'airline_code': their number and summed
-- delay), per date of the operated flights with a known delay ('on_time': their number and those under 15
-- minutes late, arrival delay first). Rows a publish empties (flights = 0) are deleted after it.
INSERT INTO flight_day_stats (dimension, departure_date, code, flights, delay_sum, on_time)
SELECT '{dimension}', departure_date, {code}, {sign}COUNT(*), {delay_sum}, {on_time}
FROM {rows}
WHERE {condition}
GROUP BY {group_by}
ON DUPLICATE KEY UPDATE flights = flights + VALUES(flights), delay_sum = delay_sum + VALUES(delay_sum),
                        on_time = on_time + VALUES(on_time)
