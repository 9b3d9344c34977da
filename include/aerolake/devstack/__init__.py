"""The local stack's stand-ins for the stores production runs as services (``aerolake stack``)."""
