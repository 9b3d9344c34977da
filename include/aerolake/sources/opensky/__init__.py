"""OpenSky Network REST API: OAuth2 client (or anonymous), the snapshot and day fetch plans, the records of
state-vector arrays, and the normalizers.

Two kinds of partition in one DAG (``opensky_lakehouse``):

``states`` (a snapshot, ``dt=YYYY-MM-DD/snapshot=HHMM/``, every 10 minutes)
    ``GET /states/all`` for a box around the hubs (``time`` = the snapshot, ``extended=1``): each state vector is
    an **array** of 17 values (18 with ``category``), by position (icao24, callsign padded with spaces to 8
    characters, origin_country, time_position, last_contact, longitude, latitude, baro_altitude, on_ground,
    velocity m/s, true_track, vertical_rate m/s, sensors, geo_altitude, squawk, spi, position_source); any may be
    null, and ``states`` itself is null when the box is empty. Live only: a past snapshot without a raw
    partition cannot be served.
``departures``, ``arrivals`` (a day, ``dt=YYYY-MM-DD/``: the run at 00:00 UTC covers the day before; or any run
    triggered with ``{"snapshot": false}``: its logical date)
    ``GET /flights/departure`` and ``/flights/arrival`` by hub ICAO code and the day's Unix interval: a JSON array
    of objects (icao24, firstSeen, estDepartureAirport, lastSeen, estArrivalAirport, callsign, four distances,
    two candidate counts), 404 when nothing matches. Computed by a nightly batch: the day before and earlier,
    for years back, so a backfill of a past day fetches it.

Auth: since March 2026 the OAuth2 client-credentials flow only: a token from OpenSky's auth server
(``extra.token_url``; about 30 minutes), refreshed two minutes before it expires and on a 401; no login is
anonymous (``/states/all`` only; the flights endpoints refuse it). Credits: a daily allowance (anonymous 400,
registered 4,000); ``/states/all`` costs by the box's area (up to 25 square degrees 1 credit, 100 2, 400 3,
more 4), a flights interval under 24 hours 4. The budget (``SPEC.budget``, ``AEROLAKE_OPENSKY_BUDGET_PER_DAY``)
counts credits: each request charges its cost. ``X-Rate-Limit-Remaining`` on every answer is remembered and a
request it cannot pay is not made; a 429 waits ``X-Rate-Limit-Retry-After-Seconds`` when that is short (two
minutes at most), else the run stops saying when credits return.

Into the model: positions (km/h from m/s, metres kept, ``observed_at`` from ``time_position`` else
``last_contact``, the callsign ``DLH400`` -> flight ``LH400`` through the airlines' ICAO codes, packaged in
``spec.AIRLINE_IATA``), and flights at the lowest authority (observed times only: see ``normalize.py``).

The package: ``spec.py`` (endpoints, credits, airline codes, publications, checks), ``plan.py`` (the requests of
a partition, the box, what can be served), ``client.py`` (auth, credits, the API's answers), ``normalize.py``
(keys and normalizers), seen as one :class:`aerolake.sources.base.Source` through
``aerolake.sources.source("opensky")``.
"""
