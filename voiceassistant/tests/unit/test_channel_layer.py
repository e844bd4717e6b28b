"""The Redis channel layer as settings configure it, against a real Redis."""

from __future__ import annotations

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer

from voiceassistant.channel_layers import redis_channel_layer

pytestmark = pytest.mark.redis


def make_layer(url: str) -> RedisChannelLayer:
    return RedisChannelLayer(**redis_channel_layer(url)["CONFIG"])


async def test_it_keeps_an_idle_receiver_alive_past_the_blocking_read(
    redis_url: str,
) -> None:
    # A consumer waiting longer than channels-redis' 5 s blocking read must neither
    # crash (redis-py 8's default 5 s socket timeout did) nor miss the message.
    receiver, sender = make_layer(redis_url), make_layer(redis_url)
    channel = await receiver.new_channel()
    await receiver.group_add("layer-test", channel)

    async def send_late() -> None:
        await asyncio.sleep(6)
        await sender.group_send("layer-test", {"type": "late.hello", "n": 1})

    task = asyncio.create_task(send_late())
    message = await asyncio.wait_for(receiver.receive(channel), 12)
    await task
    assert message == {"type": "late.hello", "n": 1}
    await receiver.flush()
    await sender.flush()
