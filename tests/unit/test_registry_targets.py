"""Every name of every registry resolves, and lies inside the package that registers it.

A registry entry is a ``"module:attr"`` string that import-linter cannot follow: a typo
fails only when a user picks the name, and a target outside its provider package would
bypass the layer rules (a low registry reaching up into the engines)."""

from __future__ import annotations

import importlib

import pytest

from litrain import registry
from litrain.registry import Registry

REGISTRIES = {attr: reg for attr, reg in vars(registry).items() if isinstance(reg, Registry)}
ENTRIES = [
    pytest.param(attr, name, id=f"{attr}-{name}") for attr, reg in REGISTRIES.items() for name in reg.names()
]


def test_every_registry_is_listed_for_users():
    assert sorted(REGISTRIES.values(), key=id) == sorted(registry.ALL.values(), key=id)


def test_every_registry_has_names():
    assert all(reg.names() for reg in REGISTRIES.values())


@pytest.mark.parametrize(("attr", "name"), ENTRIES)
def test_name_resolves_to_its_target(attr, name):
    reg = REGISTRIES[attr]
    target = reg.target(name)
    assert isinstance(target, str), f"{attr} {name!r} is registered as an object, not 'module:attr'"
    module, obj = target.split(":")
    assert reg.get(name) is getattr(importlib.import_module(module), obj)


@pytest.mark.parametrize(("attr", "name"), ENTRIES)
def test_target_lies_inside_its_provider_package(attr, name):
    reg = REGISTRIES[attr]
    module = str(reg.target(name)).split(":")[0]
    providers = reg._providers
    assert any(module == p or module.startswith(p + ".") for p in providers), (
        f"{attr} {name!r} -> {module}, outside its provider package(s) {', '.join(providers)}"
    )
