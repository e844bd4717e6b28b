"""A local stand-in for Twilio's REST API: the Call resource this project uses.

``TwilioRestApi`` serves, on a thread, what ``calls.telephony.account.rest`` sends:

- ``GET  /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` (fetch)
- ``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` with the form
  fields ``Status`` (``completed``, ``canceled``), ``Twiml`` or ``Url``/``Method``

with HTTP basic auth checked against the account SID and Auth Token or the API key
pair (401 otherwise), JSON shaped like Twilio's call resource, and Twilio's error
JSON (``code``, ``message``, ``more_info``, ``status``) for unknown calls and bad
updates. Every request is recorded (method, path, params, user name; never the
password) for tests and reports.

Calls are known once registered: ``TwilioCaller`` registers its call when given
``CallerOptions(rest_api=...)``, and a test may ``register`` any other. A
registered call may carry ``on_update``; it runs on the server's thread for every
accepted update of a live call, so a simulated caller can end its stream the way
Twilio does (see ``TwilioCaller._on_rest_update``).

Reference: https://www.twilio.com/docs/voice/api/call-resource and
https://www.twilio.com/docs/usage/twilios-response (error shape).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import json
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from calls.tooling.simulators.twilio_caller.webhook import new_sid

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
CALL_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>AC[0-9a-f]{{32}})"
    r"/Calls/(?P<call>CA[0-9a-f]{32})\.json$"
)
# Twilio's statuses after which a call can no longer be changed.
FINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
MAX_TWIML_CHARS = 4000
# Twilio answers a bad parameter with a code per parameter; one generic code is
# enough for a stand-in whose clients only look at the 400.
BAD_PARAMETER = 20001
# "Call is not in-progress. Cannot redirect.": updating a call that has ended.
NOT_IN_PROGRESS = 21220

UpdateHook = Callable[["CallUpdate"], None]


@dataclass(frozen=True)
class CallUpdate:
    """One accepted POST to a call: what Twilio would do to the live call."""

    status: str = ""  # "completed" or "canceled"
    twiml: str = ""
    url: str = ""
    method: str = "POST"

    @property
    def kind(self) -> str:
        """``completed``, ``canceled``, ``twiml`` or ``url``."""
        return self.status or ("twiml" if self.twiml else "url")


@dataclass
class RestRequest:
    """A request the stand-in received, and how it answered."""

    method: str
    path: str
    params: dict[str, str]
    username: str  # the account SID or the API key SID; "" without auth
    status: int = 0


@dataclass
class SimulatedCall:
    sid: str
    account_sid: str
    from_number: str = "+15557654321"
    to_number: str = "+15550000100"
    status: str = "in-progress"
    direction: str = "inbound"
    twiml_updates: list[str] = field(default_factory=list)
    url_updates: list[str] = field(default_factory=list)
    on_update: UpdateHook | None = None
    created: str = field(default_factory=lambda: email.utils.formatdate(usegmt=True))
    updated: str = ""

    def resource(self) -> dict[str, Any]:
        """The JSON Twilio answers for this call (the fields a client reads)."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "parent_call_sid": None,
            "to": self.to_number,
            "to_formatted": self.to_number,
            "from": self.from_number,
            "from_formatted": self.from_number,
            "phone_number_sid": None,
            "status": self.status,
            "direction": self.direction,
            "answered_by": None,
            "api_version": API_VERSION,
            "date_created": self.created,
            "date_updated": self.updated or self.created,
            "start_time": self.created,
            "end_time": self.updated if self.status in FINAL else None,
            "duration": None,
            "price": None,
            "price_unit": "USD",
            "caller_name": None,
            "forwarded_from": None,
            "group_sid": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": uri + ".json",
            "subresource_uris": {
                "recordings": uri + "/Recordings.json",
                "notifications": uri + "/Notifications.json",
                "events": uri + "/Events.json",
            },
        }


class TwilioRestApi:
    """Twilio's REST API for simulated calls, on ``127.0.0.1`` and a free port.

    ``with TwilioRestApi(account_sid=..., auth_token=...) as api:`` starts it;
    point ``TWILIO_API_BASE_URL`` at ``api.base_url``.
    """

    def __init__(
        self,
        *,
        account_sid: str = "",
        auth_token: str = "",
        api_key_sid: str = "",
        api_key_secret: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid or new_sid("AC")
        self._credentials = [(self.account_sid, auth_token)] if auth_token else []
        if api_key_sid and api_key_secret:
            self._credentials.append((api_key_sid, api_key_secret))
        self.host, self.port = host, port
        self.requests: list[RestRequest] = []
        self.calls: dict[str, SimulatedCall] = {}
        # Handlers run on the server's threads while tests and callers read.
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> TwilioRestApi:
        server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            # A short poll so stop() (and each test's teardown) returns quickly.
            kwargs={"poll_interval": 0.05},
            name="twilio-rest-stand-in",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> TwilioRestApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # The calls it knows.

    def register(
        self,
        call_sid: str,
        *,
        from_number: str = "+15557654321",
        to_number: str = "+15550000100",
        status: str = "in-progress",
        on_update: UpdateHook | None = None,
    ) -> SimulatedCall:
        """Make ``call_sid`` a call of this account (replacing any earlier one)."""
        call = SimulatedCall(
            sid=call_sid,
            account_sid=self.account_sid,
            from_number=from_number,
            to_number=to_number,
            status=status,
            on_update=on_update,
        )
        with self._lock:
            self.calls[call_sid] = call
        return call

    def set_status(self, call_sid: str, status: str) -> None:
        """What Twilio's own progress does to a call (answered, hung up...)."""
        with self._lock:
            call = self.calls.get(call_sid)
            if call is not None:
                call.status = status
                call.updated = email.utils.formatdate(usegmt=True)
                if status in FINAL:
                    call.on_update = None  # nothing is left to act on

    def requests_for(self, call_sid: str) -> list[RestRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(f"/{call_sid}.json")]

    # Answering requests (on the server's threads).

    def authenticate(self, header: str) -> tuple[str, bool]:
        """The basic-auth user name, and whether its password matches."""
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return "", False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", False
        username, _, password = decoded.partition(":")
        for known_user, known_password in self._credentials:
            if hmac.compare_digest(username, known_user) and hmac.compare_digest(
                password.encode(), known_password.encode()
            ):
                return username, True
        return username, False

    def answer(
        self, method: str, path: str, params: dict[str, str], auth_header: str
    ) -> tuple[int, dict[str, Any]]:
        """Status and JSON body for one request; records it first."""
        username, authorised = self.authenticate(auth_header)
        record = RestRequest(method, path, params, username)
        with self._lock:
            self.requests.append(record)
            status, body, update, hook = self._answer(method, path, params, authorised)
            record.status = status
        logger.debug("REST stand-in: %s %s -> %s", method, path, status)
        if update is not None and hook is not None:
            # Outside the lock: the hook may call back into the stand-in.
            try:
                hook(update)
            except Exception:
                # A caller that has gone away must not turn the answer into a 500.
                logger.exception("REST stand-in: the call's update hook failed")
        return status, body

    def _answer(
        self, method: str, path: str, params: dict[str, str], authorised: bool
    ) -> tuple[int, dict[str, Any], CallUpdate | None, UpdateHook | None]:
        """The answer (under the lock), and the update to tell the live call."""
        if not authorised:
            return 401, _error(401, 20003, "Authenticate"), None, None
        match = CALL_PATH.match(path)
        call = self.calls.get(match["call"]) if match else None
        if match is None or call is None or match["account"] != self.account_sid:
            message = f"The requested resource {path} was not found"
            return 404, _error(404, 20404, message), None, None
        if method == "GET":
            return 200, call.resource(), None, None
        status, body, update = self._update(call, params)
        hook = call.on_update
        if call.status in FINAL:
            call.on_update = None  # an ended call has nothing left to act on
        return status, body, update, hook

    def _update(
        self, call: SimulatedCall, params: dict[str, str]
    ) -> tuple[int, dict[str, Any], CallUpdate | None]:
        """Apply a POST to ``call`` (under the lock), as Twilio would."""
        status, twiml, url = (params.get(k, "") for k in ("Status", "Twiml", "Url"))
        if status and status not in ("completed", "canceled"):
            return 400, _error(400, BAD_PARAMETER, f"Invalid Status: {status}"), None
        if twiml and url:
            message = "Twiml and Url are mutually exclusive"
            return 400, _error(400, BAD_PARAMETER, message), None
        if len(twiml) > MAX_TWIML_CHARS:
            message = f"Twiml is over {MAX_TWIML_CHARS} characters"
            return 400, _error(400, BAD_PARAMETER, message), None
        if call.status in FINAL:
            message = "Call is not in-progress. Cannot redirect."
            return 400, _error(400, NOT_IN_PROGRESS, message), None
        if not (status or twiml or url):
            return 200, call.resource(), None
        update = CallUpdate(status, twiml, url, params.get("Method", "POST") or "POST")
        call.updated = email.utils.formatdate(usegmt=True)
        if twiml:
            call.twiml_updates.append(twiml)
        if url:
            call.url_updates.append(url)
        if status == "canceled" and call.status == "in-progress":
            # "canceled" only ends calls not yet answered; on a live one Twilio
            # ignores it, so the stream goes on.
            return 200, call.resource(), None
        if status:
            call.status = status
        return 200, call.resource(), update


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler(api: TwilioRestApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            self._respond(*self._answer("GET", path, query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            path = self.path.partition("?")[0]
            self._respond(*self._answer("POST", path, body))

        def _answer(
            self, method: str, path: str, encoded: str
        ) -> tuple[int, dict[str, Any]]:
            params = dict(urllib.parse.parse_qsl(encoded, keep_blank_values=True))
            auth = self.headers.get("Authorization", "")
            return api.answer(method, path, params, auth)

        def _respond(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            # The requests are recorded on the stand-in; stderr stays quiet.
            pass

    return Handler
