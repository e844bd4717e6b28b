"""Key presses of the Twilio call simulator: ``--press 0@2000``, ``press_keys``.

Against the fake Twilio-side server of ``support.fake_twilio``: presses are
``dtmf`` frames at their time after the stream opened, alongside the script.
"""

from __future__ import annotations

import pytest

from calls.tests.support.fake_twilio import options, running_fake
from calls.tooling.simulators.twilio_caller import (
    HangUp,
    Hook,
    KeyPress,
    Pause,
    TwilioCaller,
    parse_press,
)


async def test_it_presses_keys_at_their_time_while_the_script_runs() -> None:
    async with running_fake() as fake:
        caller = TwilioCaller(
            options(fake, script=[Pause(900), HangUp()], presses=[KeyPress("0", 400)])
        )
        report = await caller.run()
    assert report.errors == []
    dtmf = fake.of("dtmf")
    assert [m["dtmf"] for m in dtmf] == [{"track": "inbound_track", "digit": "0"}]
    assert dtmf[0]["streamSid"] == report.stream_sid
    # Media frames go every 20 ms: about 20 of them came before the key.
    index = fake.messages.index(dtmf[0])
    before = [m for m in fake.messages[:index] if m["event"] == "media"]
    assert 12 <= len(before) <= 30
    assert report.dtmf_sent == ["0"]


async def test_it_presses_keys_on_request_during_the_call() -> None:
    async with running_fake() as fake:
        holder: list[TwilioCaller] = []

        def press() -> None:
            holder[0].press_keys("12#", after_ms=100)

        caller = TwilioCaller(
            options(fake, script=[Pause(100), Hook(press), Pause(900), HangUp()])
        )
        holder.append(caller)
        report = await caller.run()
    assert [m["dtmf"]["digit"] for m in fake.of("dtmf")] == ["1", "2", "#"]
    assert report.dtmf_sent == ["1", "2", "#"]


async def test_it_presses_keys_asked_for_before_the_call_after_the_stream_opens() -> (
    None
):
    async with running_fake() as fake:
        caller = TwilioCaller(options(fake, script=[Pause(600), HangUp()]))
        caller.press_keys("9", after_ms=200)
        report = await caller.run()
    assert report.dtmf_sent == ["9"]


def test_it_parses_press_flags() -> None:
    assert parse_press("0@2000") == KeyPress("0", 2000)
    assert parse_press("12#") == KeyPress("12#", 0)


@pytest.mark.parametrize("spec", ["", "a@100", "1@soon", "1@-5"])
def test_it_refuses_bad_press_flags(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_press(spec)
