"""The local stack's stand-ins."""
