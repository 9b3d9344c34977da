"""One module per source: its client (auth, paging, retries, rate limit) and its normalizer.

A source module ``aerolake.sources.<name>`` is what the five stages of :mod:`aerolake.stages` call: it
implements :class:`aerolake.sources.base.Source` (its name, endpoints, fetch plan, client, record keys, the
clean step, what it publishes and its quality checks), and imports nothing of the pipeline.
"""

#: The sources the pipeline knows; each is the module of the same name in this package.
SOURCES = ("lufthansa", "airlabs", "aviationstack")
