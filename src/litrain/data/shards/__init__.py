"""WebDataset-style tar shards: reading them as a data source (``data.source: shards``).

Importing this package imports nothing heavy; each module is imported where it is used."""
