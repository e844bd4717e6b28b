"""The end-to-end level: the project served by a real server process on the test
database, the Realtime simulator, and simulated Twilio calls over real sockets.
Every test here is marked ``e2e``.

Tests run on the production server; those marked ``also_daphne`` (a plain call,
SIGTERM, one tool flow) also on daphne, which ``make run`` uses, to prove it still
works. ``E2E_SERVERS=a,b`` runs every test on the servers named instead.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from calls.tests.support import e2e
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.realtime_server import SimulatorThread


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "server_kind" not in metafunc.fixturenames:
        return
    if any(
        "server_kind" in m.args[0]
        for m in metafunc.definition.iter_markers("parametrize")
    ):
        return
    also_daphne = metafunc.definition.get_closest_marker("also_daphne") is not None
    metafunc.parametrize(
        "server_kind",
        e2e.servers(also_daphne=also_daphne),
        indirect=True,
        scope="module",
    )


@pytest.fixture(scope="module")
def server_kind(request: pytest.FixtureRequest) -> str:
    """The server a test runs on (see ``pytest_generate_tests``)."""
    kind: str = request.param
    return kind


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    """One Realtime simulator per module; its settings are restored after each test."""
    thread = e2e.start_simulator()
    yield thread
    thread.stop()


@pytest.fixture(autouse=True)
def _restore_simulator_config(request: pytest.FixtureRequest) -> Iterator[None]:
    """What a test changed in the simulator's settings (faults, scripted tool
    calls, speeds) does not reach the next test."""
    if "simulator" not in request.fixturenames:
        yield
        return
    config = request.getfixturevalue("simulator").simulator.config
    saved = {
        f.name: copy.deepcopy(getattr(config, f.name))
        for f in dataclasses.fields(config)
    }
    yield
    for name, value in saved.items():
        setattr(config, name, value)


@pytest.fixture(scope="module")
def server(
    django_db_setup: Any,
    django_db_blocker: Any,
    simulator: SimulatorThread,
    server_kind: str,
) -> Iterator[ServerProcess]:
    """One server process per module and server kind, on the simulator."""
    process = e2e.start_server(simulator.url, server=server_kind)
    yield process
    process.stop()


@pytest.fixture
def redis_layer(settings: Any, redis_url: str) -> None:
    """This process's channel layer is the servers' Redis, like a deployment's."""
    from voiceassistant.channel_layers import redis_channel_layer

    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(redis_url)}
