"""The pipeline's shared steps, which every source goes through (the stages themselves: :mod:`aerolake.pipeline.stages`)."""
