"""Lufthansa Open API: OAuth2 client, the day's fetch plan, and record extraction.

The real API's quirks handled here (aerolake/mockapi reproduces them): any one-member array comes as a plain object; numbers come as int or
string; ``Position`` may be ``{"@nil": "true"}``; a 404 ``ProcessingErrors`` answer means "no data for this
window"; the gateway answers 401 ``{"Error": "Not Authorized"}`` for an expired token and 403 "Account Over
Queries Per Second Limit" when called too fast (retried with backoff, never fatal on its own).

The package: ``spec.py`` (endpoints, publications, checks), ``plan.py`` (the requests of a partition),
``client.py`` (HTTP, the API's answers), ``normalize.py`` (keys and normalizers), seen as one
:class:`aerolake.sources.base.Source` through ``aerolake.sources.source("lufthansa")``.
"""
