"""One module per ``litrain`` command, each with a ``COMMAND`` (litrain.cli.table.Command).
Modules import torch, Lightning and the API inside their functions only."""
