"""What every layer shares and nothing else: the facts of the pipeline's flow (``flow``)."""
