"""Standard quantum-dot lab experiments, each logging to a streamed zarr run store."""
