"""Bad input gets a clear 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    "path",
    [
        "/calls/CA%00abc/",
        "/calls/CA%00abc/hangup/",
        "/calls/CA%00abc/transfer/",
        "/calls/CA%00abc/recording.wav",
        "/calls/CA%00abc/transcript.json",
        "/calls/" + "A" * 65 + "/",
    ],
)
def test_a_call_url_with_a_malformed_callsid_is_not_found(
    staff_client: Any, path: str
) -> None:
    assert staff_client.get(path).status_code == 404
