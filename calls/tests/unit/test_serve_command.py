"""``manage.py serve``: the production entry point runs the production server."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from calls.ops.servers import PRODUCTION_SERVER, SERVE_SERVERS, server_command


def test_it_execs_the_production_server_for_one_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executed: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda path, argv: executed.append(argv))
    call_command("serve", "--port", "8123", "--host", "127.0.0.1")
    assert executed == [server_command(PRODUCTION_SERVER, "127.0.0.1", 8123)]
    assert "uvicorn" in executed[0] and "--proxy-headers" in executed[0]


def test_it_needs_redis_for_several_workers(settings: Any) -> None:
    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="REDIS_URL is required"):
        call_command("serve", "--workers", "2")


@pytest.mark.parametrize("server", ["daphne", "daphne-uvloop", "hypercorn", "granian"])
def test_it_offers_only_the_servers_that_pass_the_end_to_end_tests(
    server: str,
) -> None:
    # hypercorn and granian fail the SIGTERM test; daphne is `make run`'s. All of
    # them stay benchmark options in the dev-tools app.
    assert server not in SERVE_SERVERS
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("serve", "--server", server)
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("serve_workers", "--server", server)
