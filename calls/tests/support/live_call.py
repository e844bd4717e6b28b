"""A live simulated call on a thread that stays on the line until the server ends
it, and a staff session over plain HTTP (cookies and CSRF): the pieces of the
end-to-end control and hardening tests."""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from calls.models import Call, CallStatus
from calls.tests.support import e2e
from calls.tooling.simulators.local_server import ServerProcess
from calls.tooling.simulators.twilio_caller import CallReport, Pause, WaitForReply


class LiveCall:
    """A simulated call on a thread that stays on the line until the server ends
    it (or 30 s pass)."""

    def __init__(self, server: ServerProcess) -> None:
        script = [WaitForReply(optional=True, timeout_s=10), Pause(30_000)]
        self.options = e2e.caller_options(server, script=script)
        self.call_sid = self.options.call_sid
        self.reports: list[CallReport] = []
        self.thread = threading.Thread(
            target=lambda: self.reports.append(e2e.run_call(self.options)),
            daemon=True,
        )

    def __enter__(self) -> LiveCall:
        self.thread.start()
        self.wait_in_progress()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(timeout=40)

    def wait_in_progress(self, timeout_s: float = 15) -> None:
        """Until the stream started and the greeting row is written."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            call = Call.objects.filter(call_sid=self.call_sid).first()
            if (
                call is not None
                and call.status == CallStatus.IN_PROGRESS
                and call.transcript_entries.exists()
            ):
                return
            time.sleep(0.05)
        raise AssertionError(f"call {self.call_sid} never got going")

    def report(self) -> CallReport:
        self.thread.join(timeout=40)
        assert self.reports, "the simulated call did not finish"
        return self.reports[0]


class StaffSession:
    """A logged-in staff browser session over plain HTTP (cookies and CSRF)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )
        login = self.get("/admin/login/")
        self.post(
            "/admin/login/?next=/calls/",
            login,
            {"username": username, "password": password},
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base_url + path, timeout=10) as response:
            return str(response.read().decode())

    def post(
        self, path: str, form_page: str, fields: dict[str, str] | None = None
    ) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page)
        assert match, "no CSRF token on the form page"
        data = {"csrfmiddlewaretoken": match.group(1), **(fields or {})}
        request = urllib.request.Request(
            self.base_url + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base_url + path},
        )
        with self.opener.open(request, timeout=15) as response:
            return str(response.read().decode())
