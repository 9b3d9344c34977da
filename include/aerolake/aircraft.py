"""Aircraft type codes: IATA (what ``aircraft_types`` holds) and ICAO type designators (what Airlabs sends).

Real codes, of the types the Lufthansa Group and its partners fly (the hub traffic this project follows). The
Airlabs normalizer turns a designator into its IATA code with it and keeps one it does not know as sent (so a
missing entry costs a join, never a row); the mock API flies the same types.
"""

#: IATA aircraft type code -> ICAO type designator
AIRCRAFT_ICAO = {
    "100": "F100", "221": "BCS1", "223": "BCS3", "290": "E290", "295": "E295", "E70": "E170", "E75": "E75L",
    "E90": "E190", "E95": "E195", "CR7": "CRJ7", "CR9": "CRJ9", "CRK": "CRJX", "DH4": "DH8D", "AT5": "AT45",
    "AT7": "AT72", "318": "A318", "319": "A319", "320": "A320", "321": "A321", "32N": "A20N", "32Q": "A21N",
    "733": "B733", "738": "B738", "7M8": "B38M", "752": "B752", "332": "A332", "333": "A333", "339": "A339",
    "343": "A343", "346": "A346", "359": "A359", "351": "A35K", "388": "A388", "744": "B744", "74H": "B748",
    "763": "B763", "772": "B772", "77W": "B77W", "788": "B788", "789": "B789", "78J": "B78X", "77F": "B77L",
}  # fmt: skip
