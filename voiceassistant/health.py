"""``GET /healthz``: can this process reach its database and its channel layer?

For load balancers and ``docker compose``: 200 with ``{"database": "ok",
"channel_layer": "ok"}`` when both answer, 503 with ``"error"`` for the failing
check otherwise, and ``"why"``: what failed in plain words (e.g. "the channel
layer (Redis) is unreachable"). The page is public, so the error's detail (which
names hosts and ports) goes to the log only. The channel layer is checked with a
real send and receive on a fresh channel, which exercises Redis (or the in-memory
layer) end to end.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from calls.runtime.bus.layer_failure import LAYER_UNREACHABLE

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"
# Short enough for a load balancer's probe, long enough for a busy Redis.
TIMEOUT_SECONDS = 2.0
_MAX_ERROR_LENGTH = 200
CAUSES = {
    "database": "the database is unreachable",
    "channel_layer": LAYER_UNREACHABLE,
}


@never_cache
@require_safe
async def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": await check_database(),
        "channel_layer": await check_channel_layer(),
    }
    healthy = all(result == OK for result in checks.values())
    if not healthy:
        logger.error("health check failed: %s", checks)
    public: dict[str, object] = {
        name: OK if result == OK else ERROR for name, result in checks.items()
    }
    # What failed, in words a supervisor understands, without hosts or ports.
    why = {name: CAUSES[name] for name, result in checks.items() if result != OK}
    if why:
        public["why"] = why
    return JsonResponse(public, status=200 if healthy else 503)


async def check_database() -> str:
    try:
        await asyncio.wait_for(sync_to_async(_query_database)(), TIMEOUT_SECONDS)
    except TimeoutError:
        return f"error: no answer within {TIMEOUT_SECONDS:g}s"
    except Exception as exc:
        return _error(exc)
    return OK


async def check_channel_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        return "error: no channel layer is configured (CHANNEL_LAYERS)"
    nonce = uuid.uuid4().hex
    try:
        channel = await layer.new_channel()
        await asyncio.wait_for(
            layer.send(channel, {"type": "health.ping", "nonce": nonce}),
            TIMEOUT_SECONDS,
        )
        message = await asyncio.wait_for(layer.receive(channel), TIMEOUT_SECONDS)
    except TimeoutError:
        return f"error: no answer within {TIMEOUT_SECONDS:g}s"
    except Exception as exc:
        return _error(exc)
    if message.get("nonce") != nonce:
        return "error: received someone else's message"
    return OK


def _query_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _error(exc: Exception) -> str:
    detail = f"{type(exc).__name__}: {exc}".strip()
    return "error: " + detail[:_MAX_ERROR_LENGTH]
