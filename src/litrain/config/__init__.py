"""The typed config: sections (``schema``), loading and merging (``load``), flag names and
hints (``keys``). Importing it never imports torch."""

from litrain.config.schema import *  # noqa: F403
