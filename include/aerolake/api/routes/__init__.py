"""The web API's routes by area, one ``APIRouter`` each: ``pages`` (map, dashboard, docs), ``ops`` (health,
status), ``data`` (airports, flights, positions, stats) and ``imports`` (run_data_import). They read the app's
shared :class:`aerolake.api.state.AppState` through the ``State`` dependency."""
