"""Whether an online W&B run can start here, asked before any logger or network call.

Both engines log to W&B (the Lightning engine through ``WandbLogger``, the native engine
with the ``wandb`` package directly), so the check lives below them. It reads only what
wandb itself reads to find credentials, without importing wandb or reaching the network:
``WANDB_API_KEY`` / ``WANDB_IDENTITY_TOKEN_FILE``, then the netrc entry for the W&B host
(``WANDB_BASE_URL``, default api.wandb.ai) in ``$NETRC`` or ``~/.netrc`` (``wandb login``
writes it there). Without this check an online run with no key ends in a 47-line traceback
from inside wandb.init.
"""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from urllib.parse import urlsplit

from litrain.errors import ConfigError

DEFAULT_HOST = "https://api.wandb.ai"


def _netrc_path() -> Path:
    if os.environ.get("NETRC"):
        return Path(os.environ["NETRC"]).expanduser()
    home = Path.home()
    for name in (".netrc", "_netrc"):  # _netrc: Windows
        if (home / name).is_file():
            return home / name
    return home / ".netrc"


def has_wandb_credentials() -> bool:
    """An API key (or identity token file) wandb would find, without asking the network."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlsplit(os.environ.get("WANDB_BASE_URL") or DEFAULT_HOST).netloc
    try:
        entry = netrc.netrc(str(_netrc_path())).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return False
    return bool(entry and entry[2])


def check_wandb_mode(mode: str) -> None:
    """``logging.wandb.mode=online`` needs credentials: say how to get them, or go offline."""
    if mode != "online" or has_wandb_credentials():
        return
    raise ConfigError(
        "logging.wandb.mode=online but no W&B API key was found (WANDB_API_KEY unset, no "
        "netrc entry for the W&B host): run `wandb login`, set WANDB_API_KEY, or use "
        "--logging.wandb.mode offline (then `wandb sync` the run dir's logs/wandb later)"
    )
