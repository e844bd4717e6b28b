"""Entry points that an attacker could bend: identifiers, sizes, Host and Origin,
unknown WebSocket paths, what logs and /healthz reveal, production settings."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.urls import path

from calls.models import Call
from calls.review.live import LiveCallsConsumer
from calls.routing import websocket_urlpatterns
from calls.runtime.media_consumer import MediaStreamConsumer
from calls.telephony import log_redaction, stream_token
from calls.telephony.body_limit import MAX_TWILIO_BODY_BYTES, TwilioBodyLimit
from calls.tests.support.twilio_signing import (
    call_params,
    signed_get,
    signed_post,
    twilio_signature,
)
from calls.tooling.simulators.local_server import PROJECT_DIR
from calls.websecurity.origin import PublicOriginValidator

VOICE = "/twilio/voice/"
STATUS = "/twilio/status/"
STREAM_ENDED = "/twilio/stream-ended/"
GOOD_SID = "CA" + "ab" * 16


# -- identifiers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "call_sid",
    [
        "CA" + "a" * 70,
        "CA" + "a" * 10_000,
        "CA" + "a" * 31 + "\x00",
        "CA123",
        "XX" + "a" * 32,
        "CA" + "A" * 32,
    ],
    ids=["over-64", "10k", "nul", "short", "prefix", "upper-hex"],
)
@pytest.mark.parametrize("endpoint", [VOICE, STATUS, STREAM_ENDED])
def test_it_answers_a_bad_call_sid_400_and_writes_nothing(
    client: Any, phone_number: Any, endpoint: str, call_sid: str
) -> None:
    response = signed_post(client, endpoint, call_params(CallSid=call_sid))
    assert response.status_code == 400
    assert "CallSid" in response.content.decode()
    assert not Call.objects.exists()


def test_it_answers_a_bad_account_sid_400(client: Any, phone_number: Any) -> None:
    response = signed_post(client, VOICE, call_params(AccountSid="AC" + "z" * 32))
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_it_still_routes_a_well_formed_call(client: Any, phone_number: Any) -> None:
    response = signed_post(client, VOICE, call_params(CallSid=GOOD_SID))
    assert response.status_code == 200
    assert Call.objects.filter(call_sid=GOOD_SID).exists()


# -- request body size -----------------------------------------------------------


async def test_it_refuses_an_oversized_twilio_body_before_reading_it() -> None:
    reached: list[str] = []
    received: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    async def receive() -> dict[str, Any]:
        received.append("read")
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "path": VOICE,
        "headers": [(b"content-length", str(256 * 1024 * 1024).encode())],
    }
    await TwilioBodyLimit(app)(scope, receive, send)
    assert sent[0]["status"] == 413
    assert reached == [] and received == []  # neither Django nor the body


async def test_it_refuses_a_chunked_body_once_it_passes_the_limit() -> None:
    chunks = [b"x" * 16 * 1024] * 10

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": chunks.pop(), "more_body": bool(chunks)}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await TwilioBodyLimit(app)(
        {"type": "http", "path": STATUS, "headers": []}, receive, send
    )
    assert sent[0]["status"] == 413
    assert len(chunks) == 10 - (MAX_TWILIO_BODY_BYTES // (16 * 1024) + 1)


async def test_it_leaves_other_paths_and_small_bodies_alone() -> None:
    calls: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])

    big = [(b"content-length", b"99999999")]
    for scope_path, headers in (
        ("/admin/login/", big),
        (VOICE, [(b"content-length", b"300")]),
    ):
        await TwilioBodyLimit(app)(
            {"type": "http", "path": scope_path, "headers": headers}, None, None
        )
    assert calls == ["/admin/login/", VOICE]


# -- Host on the stream upgrade, Origin on the live socket ---------------------------


@pytest.mark.django_db(transaction=True)
async def test_it_refuses_a_stream_upgrade_for_a_host_not_allowed(
    settings: Any, phone_number: Any, caplog: Any
) -> None:
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["voice.example.com"]
    token = stream_token.mint(
        call_sid=GOOD_SID, secret=settings.SECRET_KEY, ttl_seconds=60, now=time.time()
    )
    url_path = f"/twilio/media-stream/{token}/"
    # django-stubs types path() for HTTP views only (see calls/routing.py).
    route: Any = path("twilio/media-stream/<str:token>/", MediaStreamConsumer.as_asgi())  # type: ignore[arg-type]
    app = URLRouter([route])
    # Signed correctly over the attacker's host: only the Host check stops it.
    signature = twilio_signature("wss://evil.example" + url_path, {})
    socket = WebsocketCommunicator(
        app,
        url_path,
        headers=[
            (b"host", b"evil.example"),
            (b"x-twilio-signature", signature.encode()),
        ],
    )
    connected, _ = await socket.connect()
    assert connected is False
    assert "not in ALLOWED_HOSTS" in caplog.text
    assert token not in caplog.text  # the refused upgrade's token is not logged


def test_it_warns_at_start_up_without_public_base_url(settings: Any) -> None:
    settings.DEBUG = False
    settings.PUBLIC_BASE_URL = ""
    assert "calls.W001" in [m.id for m in run_checks()]
    settings.PUBLIC_BASE_URL = "https://voice.example.com"
    assert "calls.W001" not in [m.id for m in run_checks()]


@pytest.mark.parametrize(
    ("origin", "host", "accepted"),
    [
        ("https://voice.example.com", "voice.example.com", True),
        ("https://voice.example.com:443", "voice.example.com", True),
        ("https://voice.example.com:8443", "voice.example.com", False),  # port
        ("http://voice.example.com", "voice.example.com", False),  # scheme
        ("https://evil.example", "voice.example.com", False),
        ("http://127.0.0.1:8001", "127.0.0.1:8001", True),  # same origin as asked
        ("http://127.0.0.1:9999", "127.0.0.1:8001", False),  # another local port
        ("", "voice.example.com", False),
    ],
)
async def test_it_compares_the_live_origin_by_scheme_host_and_port(
    settings: Any, origin: str, host: str, accepted: bool
) -> None:
    settings.ALLOWED_HOSTS = ["voice.example.com", "127.0.0.1"]
    reached: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    messages = [{"type": "websocket.disconnect", "code": 1000}]
    messages.append({"type": "websocket.connect"})

    async def receive() -> dict[str, Any]:
        return messages.pop()

    headers = [(b"host", host.encode())] + (
        [(b"origin", origin.encode())] if origin else []
    )
    scope = {
        "type": "websocket",
        "path": "/ws/calls/live/",
        "scheme": "ws" if host.startswith("127.") else "wss",
        "headers": headers,
    }
    await PublicOriginValidator(app)(scope, receive, send)
    assert bool(reached) is accepted


# -- unknown WebSocket paths ---------------------------------------------------------


async def test_it_closes_an_unknown_websocket_path_with_4404(caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    socket = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns),  # type: ignore[arg-type]
        "/ws/nothing-here/",
    )
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_output())["code"] == 4404
    lines = [r for r in caplog.records if "unknown path" in r.getMessage()]
    assert [r.levelname for r in lines] == ["INFO"]


# -- logs and health -----------------------------------------------------------------


def test_it_redacts_stream_tokens_in_daphne_access_log_lines() -> None:
    import io

    from daphne.access import AccessLogGenerator

    log_redaction.install_daphne_access_log_redaction()
    stream = io.StringIO()
    AccessLogGenerator(stream)(
        "websocket",
        "connecting",
        {"client": ["1.2.3.4", 5], "path": "/twilio/media-stream/v1.SECRETTOKEN.sig/"},
    )
    assert "SECRETTOKEN" not in stream.getvalue()
    assert "/twilio/media-stream/<redacted>/" in stream.getvalue()


def test_it_redacts_tokens_in_any_log_line(caplog: Any) -> None:
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        "",
        0,
        "refused %s",
        ("/twilio/media-stream/abc.def/",),
        None,
    )
    log_redaction.RedactTokensFilter().filter(record)
    assert record.getMessage() == "refused /twilio/media-stream/<redacted>/"


def test_it_logs_no_caller_number_for_a_refused_get_webhook(
    client: Any, caplog: Any
) -> None:
    response = client.get(
        VOICE + "?CallSid=" + GOOD_SID + "&From=%2B15557654321",
        HTTP_X_TWILIO_SIGNATURE="bad",
    )
    assert response.status_code == 403
    assert "refused /twilio/voice/" in caplog.text
    assert "5557654321" not in caplog.text


def test_signed_get_webhooks_still_work(client: Any, phone_number: Any) -> None:
    assert signed_get(client, VOICE, call_params(CallSid=GOOD_SID)).status_code == 200


# -- settings ------------------------------------------------------------------------

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 30 + "-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "voice.example.com",
    "PUBLIC_BASE_URL": "https://voice.example.com",
    "TWILIO_AUTH_TOKEN": "t" * 32,
    "DATABASE_URL": "",
}


def settings_free_environ() -> dict[str, str]:
    """This process's environment without any variable settings.py reads (and no
    .env file): the settings these tests assume are the ones they set, whatever the
    shell exports (SECURE_SSL_REDIRECT=false for a plain-http deployment, say)."""
    example = (PROJECT_DIR / ".env.example").read_text()
    names = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    names |= {"DJANGO_SETTINGS_MODULE", "REALTIME_CONNECT_TIMEOUT"}
    names |= {"REALTIME_CONNECT_ON_UPGRADE", "REALTIME_WS_CLIENT"}
    clean = {key: value for key, value in os.environ.items() if key not in names}
    return {**clean, "ENV_FILE": os.devnull}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**settings_free_environ(), **PRODUCTION_ENV, **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_in_production_with_a_short_secret_key() -> None:
    result = manage("check", SECRET_KEY="abc")
    assert result.returncode != 0
    assert "SECRET_KEY is 3 characters long" in result.stderr


def test_check_deploy_is_clean_with_the_readmes_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_offers_hsts_ssl_redirect_and_csp_in_production() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src'])"
    )
    result = manage("shell", "-c", code)
    assert result.stdout.splitlines()[-1] == "31536000 True [\"'self'\"]"


def test_call_pages_and_downloads_are_never_cached(
    staff_client: Any, assistant: Any
) -> None:
    from calls.tests.support.review_helpers import make_call

    call = make_call(assistant=assistant)
    for page in (
        "/calls/",
        f"/calls/{call.call_sid}/",
        f"/calls/{call.call_sid}/transcript.csv",
        "/dashboard/",
    ):
        response = staff_client.get(page)
        assert response.status_code == 200, page
        assert response["Cache-Control"] == "private, no-store", page


def test_pages_carry_a_self_only_content_security_policy(staff_client: Any) -> None:
    policy = staff_client.get("/calls/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert django_settings.CSP_ENABLED


# -- the live socket outlives no login --------------------------------------------


@pytest.fixture
def live_viewer(staff_user: Any) -> Any:
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(codename="view_live_call"))
    return staff_user


async def open_live_socket(user: Any) -> tuple[WebsocketCommunicator, Any]:
    """A live socket logged in through a real session cookie, and its client."""
    from channels.auth import AuthMiddlewareStack
    from channels.db import database_sync_to_async
    from django.test import Client

    def logged_in() -> Client:
        client = Client()
        client.force_login(user)
        return client

    client = await database_sync_to_async(logged_in)()
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    app = AuthMiddlewareStack(LiveCallsConsumer.as_asgi())
    socket = WebsocketCommunicator(
        app, "/ws/calls/live/", headers=[(b"cookie", cookie)]
    )
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "snapshot"
    return socket, client


@pytest.mark.django_db(transaction=True)
async def test_logging_out_closes_the_live_socket_at_once(live_viewer: Any) -> None:
    from channels.db import database_sync_to_async

    socket, client = await open_live_socket(live_viewer)
    await database_sync_to_async(client.logout)()
    assert (await socket.receive_output(timeout=2))["code"] == 4401


@pytest.mark.django_db(transaction=True)
async def test_a_deactivated_viewer_cannot_subscribe_and_is_closed(
    live_viewer: Any,
) -> None:
    from channels.db import database_sync_to_async

    socket, _ = await open_live_socket(live_viewer)
    live_viewer.is_active = False
    await database_sync_to_async(live_viewer.save)()
    await socket.send_json_to({"subscribe": GOOD_SID})
    assert (await socket.receive_output(timeout=2))["code"] == 4401


@pytest.mark.django_db(transaction=True)
async def test_the_live_socket_rechecks_its_session_periodically(
    live_viewer: Any, monkeypatch: Any
) -> None:
    from channels.db import database_sync_to_async
    from django.contrib.sessions.models import Session

    from calls.review import live_sessions

    monkeypatch.setattr(live_sessions, "RECHECK_SECONDS", 0.05)
    socket, _ = await open_live_socket(live_viewer)
    # The session ends without a logout signal (expired, deleted by an admin).
    await database_sync_to_async(Session.objects.all().delete)()
    assert (await socket.receive_output(timeout=2))["code"] == 4401


# -- frames: bad base64 dropped, warnings rate-limited per call ----------------------


def test_it_drops_bad_base64_from_twilio_instead_of_forwarding_it(caplog: Any) -> None:
    from calls.callstate import SendEngine
    from calls.tests.support.frames import tw_media
    from calls.tests.support.frames.harness import Harness, of_type

    h = Harness().ready()
    caplog.set_level(logging.DEBUG)
    sent = []
    for _ in range(800):
        sent += of_type(h.tw(tw_media("not base64!!")), SendEngine)
    assert sent == []  # nothing reached the engine
    assert h.state.bad_frames == 800
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 5  # not 800
    assert of_type(h.tw(tw_media()), SendEngine)  # good audio still flows


def test_it_rate_limits_repeated_realtime_errors_per_call(caplog: Any) -> None:
    from calls.tests.support.frames import rt_error
    from calls.tests.support.frames.harness import Harness

    h = Harness().ready()
    caplog.set_level(logging.DEBUG)
    for n in range(100):
        h.rt(rt_error("invalid_value", f"bad thing {n}"))
    loud = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and "error" in r.getMessage()
    ]
    assert 1 <= len(loud) <= 5


def test_it_drops_a_stream_that_stops_playing_its_audio() -> None:
    from calls.callstate import EndCall
    from calls.callstate.speech import MAX_UNPLAYED_MS
    from calls.tests.support.frames import (
        rt_delta,
        rt_item_added,
        rt_response_created,
        tw_mark,
    )
    from calls.tests.support.frames.harness import Harness, of_type

    h = Harness().ready()
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    ends: list[EndCall] = []
    seconds = 0
    # Twilio echoes nothing: 8000 mu-law bytes = 1 s of audio a delta, unplayed.
    while not ends and seconds < 200:
        ends = of_type(h.rt(rt_delta(nbytes=8000)), EndCall)
        seconds += 1
    assert seconds == MAX_UNPLAYED_MS // 1000 + 1
    assert ends[0].reason == "stream_closed"
    assert "stopped reading" in ends[0].error

    # A peer that plays (echoes marks) is never dropped, however long it talks.
    h = Harness().ready()
    h.rt(rt_response_created())
    h.rt(rt_item_added())
    for second in range(1, 200):
        out = h.rt(rt_delta(nbytes=8000))
        assert not of_type(out, EndCall)
        h.tw(tw_mark(f"item_A1:{second * 1000}"))


@pytest.mark.django_db(transaction=True)
async def test_the_live_socket_answers_a_malformed_call_sid_without_a_query(
    live_viewer: Any,
) -> None:
    socket, _ = await open_live_socket(live_viewer)
    for bad in ("CA" + "a" * 31 + "\x00", "CA" + "a" * 60, "nope"):
        await socket.send_json_to({"subscribe": bad})
        assert await socket.receive_json_from() == {
            "type": "error",
            "error": "unknown call",
        }
    await socket.disconnect()
