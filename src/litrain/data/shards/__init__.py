"""Sharded datasets: WebDataset tar shards and LitData chunks, their per-split index, writing
them from any litrain source and reading them back for training."""
