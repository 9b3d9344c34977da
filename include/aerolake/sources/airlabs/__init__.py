"""Airlabs v9: API-key client, the snapshot fetch plan, record extraction and the normalizers.

A partition is one snapshot (``dt=YYYY-MM-DD/snapshot=HHMM``) of what the live API says at that moment:

``flights``
    real-time positions, one call per hub and direction (``dep_iata=HUB``, ``arr_iata=HUB``): the flights in
    the air to or from the hubs (a flight between two hubs comes twice: a duplicate, counted);
``schedules``
    the departure and arrival boards of each hub (``dep_iata``/``arr_iata``; the API covers a few hours back
    to 10 hours ahead), ``limit``/``offset`` pages of :data:`SCHEDULES_PAGE_SIZE` followed while
    ``request.has_more`` says so: one page per board at a hub's usual traffic;
``airports``, ``airlines``
    the full reference listings (one call each), fetched only in the day's first snapshot (``snapshot`` before
    :data:`REFERENCE_SNAPSHOTS_BEFORE`, or a partition without snapshot); every other snapshot plans no call
    for them and writes an empty manifest. They only fill gaps (fill-only in ``SPEC.publish``): Airlabs has no time
    zones or cities, so its rows never overwrite a richer source's; flights' airports missing everywhere else
    are filled from ``airportsdata`` in every snapshot.

Calls per snapshot with the default two hubs: 4 (flights) + 4 (schedules) = **8**, plus 2 once a day. The
free plan's 1,000 calls a month therefore cover about 4 snapshots a day (1000 / 30 / 8): the 10-minute default
schedule of ``airlabs_lakehouse`` needs a paid plan or a wider interval; the request budget
(:mod:`aerolake.stores.mysql.quotas`) stops a run before it would overspend.

The real API's quirks handled here (aerolake/mockapi reproduces them): errors come as ``{"error": {"code", "message"}}`` bodies, often
with HTTP 200, so every answer is read; ``not_found`` is an empty answer; ``minute_limit_exceeded`` and
``hour_limit_exceeded`` are retried after a pause, ``month_limit_exceeded``, ``unknown_api_key``,
``expired_api_key``, ``wrong_params`` and ``unknown_method`` stop the run at once. The success envelope echoes
the API key (``request.key.api_key``): the client blanks it out of the body before the page goes anywhere, the
only change made to the bytes received. Codeshares come in lower case (``"cs_airline_iata": "lh"``), airline
names as ``"empty"``, ``hex``/``reg_number``/``lat``/``alt`` as null, registrations with a dash.

The package: ``spec.py`` (endpoints, publications, checks), ``plan.py`` (the requests of a partition),
``client.py`` (HTTP, the API's answers), ``normalize.py`` (keys and normalizers), seen as one
:class:`aerolake.sources.base.Source` through ``aerolake.sources.source("airlabs")``.
"""
