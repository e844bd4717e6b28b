"""GET /healthz: the database and the channel layer, each really exercised."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.db import OperationalError

from voiceassistant import health


def test_it_reports_healthy(client: Any, db: Any) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_it_reports_a_broken_database_without_its_detail(
    client: Any, db: Any, monkeypatch: Any, caplog: Any
) -> None:
    def broken() -> None:
        raise OperationalError("could not connect to server at db.internal:5432")

    monkeypatch.setattr(health, "_query_database", broken)

    response = client.get("/healthz")

    assert response.status_code == 503
    # Anonymous callers learn which component failed, not hosts and ports.
    assert response.json() == {
        "database": "error",
        "channel_layer": "ok",
        "why": {"database": "the database is unreachable"},
    }
    assert "db.internal" not in response.content.decode()
    assert "could not connect to server at db.internal:5432" in caplog.text


class BrokenLayer:
    async def new_channel(self) -> str:
        return "health.test!x"

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        raise ConnectionError("Connection refused")


class SilentLayer(BrokenLayer):
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        return None

    async def receive(self, channel: str) -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {}


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (BrokenLayer(), "error: ConnectionError: Connection refused"),
        (SilentLayer(), "error: no answer within 0.05s"),
        (None, "error: no channel layer is configured (CHANNEL_LAYERS)"),
    ],
)
def test_it_reports_a_broken_channel_layer(
    client: Any, db: Any, monkeypatch: Any, layer: Any, expected: str, caplog: Any
) -> None:
    monkeypatch.setattr(health, "get_channel_layer", lambda: layer)
    monkeypatch.setattr(health, "TIMEOUT_SECONDS", 0.05)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "channel_layer": "error",
        "why": {"channel_layer": "the channel layer (Redis) is unreachable"},
    }
    assert expected in caplog.text  # the detail is logged, not shown


def test_it_refuses_post(client: Any) -> None:
    assert client.post("/healthz").status_code == 405


@pytest.mark.redis
def test_it_round_trips_through_redis(
    client: Any, db: Any, settings: Any, redis_url: str
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["channel_layer"] == "ok"
