"""The DAG layer: the DAG factory and the mapping of a task's context to a run. With the connection lookup
(:mod:`aerolake.core.connections`) and the streaming CLI, the only modules that import Airflow."""
