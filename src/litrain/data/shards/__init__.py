"""Sharded datasets: WebDataset tar shards and LitData chunks, their per-split index,
writing them from any litrain source (``litrain shard``) and reading them back for
training (``data.source: shards``).

Importing this package imports nothing heavy; each module is imported where it is used."""
