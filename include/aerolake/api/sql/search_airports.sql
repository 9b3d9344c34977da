-- Airports whose code is the query, or whose code, ICAO code or name starts with / contains it (code first).
SELECT airport_code, icao_code, name, city_code, country_code, latitude, longitude, timezone, location_type
FROM airports
WHERE airport_code = %(code)s OR icao_code = %(code)s OR name LIKE %(contains)s OR airport_code LIKE %(prefix)s
ORDER BY airport_code = %(code)s DESC, icao_code = %(code)s DESC, name LIKE %(prefix)s DESC, name, airport_code
LIMIT %(limit)s
