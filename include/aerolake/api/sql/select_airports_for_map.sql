-- Airports with coordinates for the map, optionally of one location type.
SELECT airport_code, name, country_code, latitude, longitude, location_type
FROM airports
WHERE latitude IS NOT NULL AND longitude IS NOT NULL AND (%(location_type)s IS NULL OR location_type = %(location_type)s)
ORDER BY airport_code
LIMIT %(limit)s
