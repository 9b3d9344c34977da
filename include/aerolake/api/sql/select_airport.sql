-- One airport with its country and city names.
SELECT a.airport_code, a.icao_code, a.name, a.city_code, ci.name AS city_name, a.country_code,
       co.name AS country_name, a.latitude, a.longitude, a.timezone, a.location_type, a.source, a.updated_at
FROM airports a
LEFT JOIN cities ci ON ci.city_code = a.city_code
LEFT JOIN countries co ON co.country_code = a.country_code
WHERE a.airport_code = %s
