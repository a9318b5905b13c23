"""The SLURM rendezvous address and port litrain computes without Lightning follow
Lightning's SLURMEnvironment rules exactly."""

import os

import pytest

from litrain.launch.slurm import rendezvous, root_node_address

NODELISTS = {
    "host[5-9]": "host5",
    "host[3]": "host3",
    "host0,host1,host3": "host0",
    "host0 host1 host3": "host0",
    "gpu-[003-005,010],cpu1": "gpu-003",
    "node[12,14-16]": "node12",
    "single": "single",
    "127.0.0.1": "127.0.0.1",
}


@pytest.mark.parametrize(("nodes", "root"), NODELISTS.items())
def test_root_node_is_the_first_host(nodes, root):
    assert root_node_address(nodes) == root


def test_root_node_matches_lightning():
    from lightning.fabric.plugins.environments import SLURMEnvironment

    for nodes in NODELISTS:
        assert root_node_address(nodes) == SLURMEnvironment.resolve_root_node_address(nodes), nodes


@pytest.fixture
def slurm_env(monkeypatch):
    for name in ("MASTER_ADDR", "MASTER_PORT", "SLURM_NODELIST", "SLURM_JOB_ID"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_address_and_port_from_the_job(slurm_env):
    slurm_env.setenv("SLURM_NODELIST", "node[7-9]")
    slurm_env.setenv("SLURM_JOB_ID", "123456")
    assert rendezvous() == ("node7", 15000 + 3456)
    assert (os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"]) == ("node7", "18456")  # written back


def test_defaults_without_nodelist_or_job_id(slurm_env):
    assert rendezvous() == ("127.0.0.1", 12910)
    assert os.environ["MASTER_PORT"] == "12910"


def test_short_job_id_uses_all_its_digits(slurm_env):
    slurm_env.setenv("SLURM_JOB_ID", "42")
    assert rendezvous()[1] == 15042


def test_master_env_wins(slurm_env):
    slurm_env.setenv("SLURM_NODELIST", "node[7-9]")
    slurm_env.setenv("SLURM_JOB_ID", "123456")
    slurm_env.setenv("MASTER_ADDR", "10.0.0.1")
    slurm_env.setenv("MASTER_PORT", "29500")
    assert rendezvous() == ("10.0.0.1", 29500)


@pytest.mark.parametrize(
    "env",
    [
        {"SLURM_NODELIST": "host[5-9]", "SLURM_JOB_ID": "98765"},
        {"SLURM_NODELIST": "a,b", "MASTER_PORT": "1234"},
        {"MASTER_ADDR": "x", "SLURM_JOB_ID": "7"},
        {},
    ],
)
def test_same_answer_and_environment_as_lightning(slurm_env, env):
    from lightning.fabric.plugins.environments import SLURMEnvironment

    for name, value in env.items():
        slurm_env.setenv(name, value)
    ours = rendezvous()
    ours_env = (os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT"))
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if name not in env:
            slurm_env.delenv(name)
    slurm_env.delenv("SLURM_NTASKS", raising=False)  # SLURMEnvironment() checks srun variables
    lightning = SLURMEnvironment(auto_requeue=False)
    assert ours == (lightning.main_address, lightning.main_port)
    assert ours_env == (os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"])
