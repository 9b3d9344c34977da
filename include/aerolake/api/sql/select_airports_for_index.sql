-- Every airport the nearest-airport index places on the globe (rows without coordinates are skipped there).
SELECT airport_code, icao_code, name, city_code, country_code, latitude, longitude, timezone, location_type
FROM airports
