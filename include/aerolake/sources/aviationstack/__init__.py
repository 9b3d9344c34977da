"""Aviation Stack v1: API-key client, the partition's fetch plan, record extraction and normalizers.

**Calls per partition.** One listing per hub: ``flights?flight_date={dt}&dep_iata={hub}``, paged by 100 (the
free plan's maximum) to ``pagination.total``. A partition costs ``sum(ceil(records_at_hub / 100))`` calls,
at least one per hub: with the default hubs FRA and MUC and the mock's default 200 flights per hub (about 270
records each with the codeshare listings) that is 6 calls; a real FRA day (about 1,300 departures plus their
codeshares) is about 30. The free plan allows 100 calls a month, so the DAG's schedule must be budgeted
(:mod:`aerolake.stores.mysql.quotas` stops a run before it would overspend).

**Why departures only.** Arrivals (``arr_iata``) would double the calls for little: a flight's row is keyed
by its departure airport and date, every flight leaving the hubs is in the departures listings, and flights
into the hubs are the departures of other airports (Lufthansa's hub arrivals and Airlabs' schedules cover
them). What is lost is the ``live`` position of inbound flights: accepted for the quota.

**The real API's quirks handled** (aerolake/mockapi reproduces them): times carry "+00:00" but are the airport's local clock time
(converted with the airport's IANA zone; a time with another offset is taken as a true offset); codeshare
listings (``flight.codeshared``, often lower case) become ``flight_codeshares`` rows pointing at the
operating flight, never extra flights; ``"name": "empty"`` airlines and null ``aircraft``, ``live``,
``registration``, ``icao24`` become NULL, never placeholders; registrations lose their dash; ``icao24`` is
lower-cased. Error bodies ``{"error": {"code", ...}}`` are detected by content, whatever the HTTP status.

The package: ``spec.py`` (endpoints, publications, checks), ``plan.py`` (the requests of a partition),
``client.py`` (HTTP, the API's answers), ``normalize.py`` (keys and normalizers), seen as one
:class:`aerolake.sources.base.Source` through ``aerolake.sources.source("aviationstack")``.
"""
