"""Registries: lazy "module:attr" entries registered by their packages, membership and
"unknown X; close matches" errors, listing without torch."""

import subprocess
import sys

import pytest

from litrain.errors import ConfigError
from litrain.registry import ALL, OPTIMIZERS, Registry


def test_entries_import_on_get_only():
    reg = Registry("thing")
    reg.register("join", "os.path:join")
    reg.register("broken", "litrain_no_such_module:f")  # registering imports nothing
    assert reg.names() == ["broken", "join"] and "join" in reg
    import os.path

    assert reg.get("join") is os.path.join
    with pytest.raises(ModuleNotFoundError):
        reg.get("broken")


def test_names_are_lowercase_and_targets_module_colon_attr():
    reg = Registry("thing")
    with pytest.raises(ValueError, match="lowercase"):
        reg.register("Adam", "torch.optim:Adam")
    with pytest.raises(ValueError, match="module:attr"):
        reg.register("adam", "torch.optim.Adam")


def test_unknown_name_lists_close_matches_once_and_the_known_names():
    reg = Registry("optimizer")
    for name in ("sgd", "adam", "adamw"):
        reg.register(name, f"torch.optim:{name}")
    with pytest.raises(ConfigError) as err:
        reg.get("adamx")
    assert str(err.value) == "unknown optimizer 'adamx'; close matches: adam, adamw. Known: adam, adamw, sgd"
    msg = reg.unknown_message("adamx", extra=["adam", "adamw", "adamax"])  # overlapping pools
    close = msg.split("close matches: ")[1].split(".")[0].split(", ")
    assert len(close) == len(set(close)) and "adamax" in close
    assert reg.unknown_message("zzz") == "unknown optimizer 'zzz'. Known: adam, adamw, sgd"


def test_providers_are_imported_on_first_use():
    code = (
        "import sys\n"
        "from litrain.registry import OPTIMIZERS\n"
        "before = 'litrain.optim' in sys.modules\n"
        "print(before, 'adamw' in OPTIMIZERS, 'litrain.optim' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]


def test_every_registry_lists_without_torch_or_lightning():
    code = (
        "import sys\n"
        "from litrain.registry import ALL\n"
        "sizes = {k: len(r.names()) for k, r in ALL.items()}\n"
        "heavy = [m for m in ('torch', 'lightning', 'torchvision', 'timm', 'numpy') if m in sys.modules]\n"
        "print(min(sizes.values()) > 0, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True []", out.stdout + out.stderr


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        ("data sources", {"digits", "cifar10", "imagefolder", "arrays", "synthetic"}),
        ("models (built-in)", {"mlp", "cnn", "resnet18_cifar", "resnet34_cifar"}),
        ("tasks", {"classification", "binary", "multilabel"}),
        ("losses", {"ce", "bce", "focal"}),
        ("optimizers", {"sgd", "adam", "adamw"}),
        (
            "schedulers",
            {"none", "cosine", "step", "multistep", "onecycle", "plateau"}
            | {"cosine_restarts", "linear", "polynomial", "exponential"},
        ),
        (
            "augment presets",
            {"none", "flip", "crop", "light", "medium", "aggressive"}
            | {"randaugment", "trivialaugment", "autoaugment", "augmix"},
        ),
        ("samplers", {"random", "balanced", "progressive"}),
        ("strategies", {"auto", "ddp", "ddp_spawn", "fsdp", "single_device"}),
        ("loggers", {"csv", "tensorboard", "wandb"}),
        ("engines", {"lightning", "native"}),
    ],
)
def test_builtin_entries_are_registered(kind, names):
    assert names <= set(ALL[kind].names())


@pytest.mark.parametrize("kind", ["optimizers", "schedulers", "augment presets", "samplers", "losses"])
def test_every_builtin_entry_resolves(kind):
    reg = ALL[kind]
    for name in reg.names():
        assert callable(reg.get(name)), name


def test_unregister_forgets_the_name():
    OPTIMIZERS.register("tmp_opt", "torch.optim:SGD")
    OPTIMIZERS.unregister("tmp_opt")
    assert "tmp_opt" not in OPTIMIZERS.names()
