"""The stores of the pipeline, one module per system: what reading and writing each takes, in one place."""
