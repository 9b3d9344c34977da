"""aerolake: aviation-data ELT lakehouse (APIs -> S3 lake -> MongoDB -> pandas -> MySQL)."""

__version__ = "0.1.0"
