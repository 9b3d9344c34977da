"""One module per source: its client (auth, paging, retries, rate limit) and its normalizer.

A source module ``aerolake.sources.<name>`` is what the five stages of :mod:`aerolake.stages` call; it
provides:

``SOURCE``
    its name (``lufthansa``, ``airlabs``, ``aviationstack``): the lake's ``source=`` and Mongo's collection prefix.
``ENDPOINTS``
    the endpoints of one partition, in order (the lake's ``endpoint=`` and Mongo's collection suffix).
``partition_plan(partition, settings) -> {endpoint: [Request]}``
    the requests that fetch one partition (``Request.path``, ``.params``, ``.page_size``).
``make_client(settings, before_request=None)``
    a client with ``.http`` (an :class:`aerolake.http.HttpClient`, whose ``calls`` counts requests),
    ``.public_base_url`` and ``iter_pages(path, params, page_size, extract)`` yielding
    :class:`aerolake.http.Page` objects; ``before_request`` is called before every request (quota charge).
``extract_records(endpoint, payload) -> (records, total or None)``
    the records of one parsed page.
``natural_key(endpoint, record) -> str | None`` and ``missing_key_reason(endpoint, record) -> str``
    the record's key within its partition, or why it has none (the record is then quarantined).
``cannot_serve_hint(partition) -> str``
    what to tell the user when the API cannot serve the partition and the lake has nothing to replay.
``clean_partition(ctx) -> {endpoint: counts}``
    cleans the partition's Mongo documents into the clean zone (:class:`aerolake.stores.clean_zone.CleanZoneWriter`).
``PUBLISH``
    ``(clean-zone entity, MySQL table, pipeline_runs endpoint, fill gaps only)`` in foreign-key order.
``QUALITY``
    the :class:`aerolake.quality.Check` list run after the load.
"""

#: The sources the pipeline knows; each is the module of the same name in this package.
SOURCES = ("lufthansa", "airlabs", "aviationstack")
