"""Channel layer configuration, shared by settings and the tests that check it."""

from __future__ import annotations

from typing import Any

# channels-redis blocks on BZPOPMIN for 5 s at a time while a consumer waits for
# group messages. redis-py 8 also defaults to a 5 s socket timeout, so an idle
# consumer's read races it, fails with TimeoutError and crashes the socket. The
# socket timeout must stay well above the blocking read.
REDIS_SOCKET_TIMEOUT_SECONDS = 15
REDIS_CONNECT_TIMEOUT_SECONDS = 5


def redis_channel_layer(url: str) -> dict[str, Any]:
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": url,
                    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
                    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
                }
            ],
        },
    }


def in_memory_channel_layer() -> dict[str, Any]:
    return {"BACKEND": "channels.layers.InMemoryChannelLayer"}
