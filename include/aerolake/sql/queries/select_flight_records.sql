-- The canonical flight records of one departure date (streaming: Avro curated zone and Kafka), with the
-- reference data joined in: airline, operating airline, airports with their city and country, aircraft type.
-- Codeshares and the latest position are read in bulk by their own queries and attached by flight.
-- flight_id joins the positions and keys the publisher's ledger; it is not part of the published record.
SELECT
    f.flight_id, f.airline_code, f.flight_number, f.departure_date, f.dep_airport, f.arr_airport,
    f.operating_airline_code, f.operating_flight_number,
    f.scheduled_departure, f.estimated_departure, f.actual_departure,
    f.scheduled_arrival, f.estimated_arrival, f.actual_arrival,
    f.dep_terminal, f.dep_gate, f.arr_terminal, f.arr_gate, f.status, f.dep_delay_min, f.arr_delay_min,
    f.aircraft_code, f.registration, f.source, f.updated_at, f.status_source, f.status_updated_at,
    al.name AS airline_name, al.icao_code AS airline_icao, oal.name AS operating_airline_name,
    da.name AS dep_airport_name, da.icao_code AS dep_airport_icao, da.timezone AS dep_airport_timezone,
    da.city_code AS dep_city_code, dci.name AS dep_city_name, da.country_code AS dep_country_code,
    dco.name AS dep_country_name, da.latitude AS dep_airport_latitude, da.longitude AS dep_airport_longitude,
    aa.name AS arr_airport_name, aa.icao_code AS arr_airport_icao, aa.timezone AS arr_airport_timezone,
    aa.city_code AS arr_city_code, aci.name AS arr_city_name, aa.country_code AS arr_country_code,
    aco.name AS arr_country_name, aa.latitude AS arr_airport_latitude, aa.longitude AS arr_airport_longitude,
    act.name AS aircraft_type_name
FROM flights f
LEFT JOIN airlines al ON al.airline_code = f.airline_code
LEFT JOIN airlines oal ON oal.airline_code = f.operating_airline_code
LEFT JOIN airports da ON da.airport_code = f.dep_airport
LEFT JOIN cities dci ON dci.city_code = da.city_code
LEFT JOIN countries dco ON dco.country_code = da.country_code
LEFT JOIN airports aa ON aa.airport_code = f.arr_airport
LEFT JOIN cities aci ON aci.city_code = aa.city_code
LEFT JOIN countries aco ON aco.country_code = aa.country_code
LEFT JOIN aircraft_types act ON act.aircraft_code = f.aircraft_code
WHERE f.departure_date = %s
ORDER BY f.airline_code, f.flight_number, f.dep_airport
