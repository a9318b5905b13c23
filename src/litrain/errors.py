"""Errors a user can cause. The CLI turns each into one message and exit code 2."""


class LitrainError(Exception):
    """A problem with the user's input: config, data, files, devices. Never a bug."""

    exit_code = 2


class ConfigError(LitrainError):
    """The config is wrong: unknown key, bad type or value, missing file."""


class DataError(LitrainError):
    """The data is missing or malformed."""


class CheckpointError(LitrainError):
    """A checkpoint is missing, corrupt or does not fit the model."""
