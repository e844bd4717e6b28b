"""'Check this assistant': a session configured against the Realtime simulator
(in process), accepted and rejected, without a call; and the admin action."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assistants.models import Assistant
from calls.models import Call
from calls.runtime.check import check_assistant
from calls.tests.support import e2e
from calls.tooling.simulators.realtime_server import Faults, SimulatorThread


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    thread = e2e.start_simulator()
    yield thread
    thread.stop()


@pytest.fixture(autouse=True)
def _engine_settings(settings: Any, simulator: SimulatorThread) -> Iterator[None]:
    settings.OPENAI_REALTIME_URL = simulator.url
    settings.OPENAI_API_KEY = e2e.SIM_API_KEY
    settings.REALTIME_PROVIDER = "openai"
    yield
    simulator.simulator.config.faults = Faults()


def test_it_reports_an_accepted_configuration(
    assistant: Assistant, simulator: SimulatorThread
) -> None:
    before = len(simulator.simulator.connections)
    result = check_assistant(assistant.persona(), within=3)
    assert result.ok, result
    assert "accepted the configuration" in result.summary
    assert any(line.startswith("model ") for line in result.details)
    (leg,) = simulator.simulator.connections[before:]
    assert leg.closed.wait(3)  # closed again, and no audio was ever sent
    assert leg.appends == 0
    assert leg.session["audio"]["output"]["voice"] == assistant.voice
    assert not Call.objects.exists()


def test_it_reports_a_rejected_configuration_with_the_servers_message(
    assistant: Assistant, simulator: SimulatorThread
) -> None:
    simulator.simulator.faults.reject_session_update = True
    result = check_assistant(assistant.persona(), within=3)
    assert not result.ok
    assert "rejected session.update" in result.summary
    assert "Simulated fault: this session.update is rejected." in result.summary


def test_it_reports_a_refused_key(
    assistant: Assistant, simulator: SimulatorThread
) -> None:
    simulator.simulator.faults.reject_all_keys = True
    result = check_assistant(assistant.persona(), within=3)
    assert not result.ok
    assert "refused the API key" in result.summary and "401" in result.summary


def test_it_carries_model_name_warnings(assistant: Assistant) -> None:
    assistant.model = "gpt-realtme"
    result = check_assistant(assistant.persona(), within=3)
    assert any('"gpt-realtme"' in w for w in result.warnings)


def test_it_reports_both_ways_from_the_admin_action(
    admin_client: Any, assistant: Assistant, simulator: SimulatorThread
) -> None:
    def check() -> list[str]:
        response = admin_client.post(
            "/admin/assistants/assistant/",
            {"action": "check_assistants", "_selected_action": [assistant.pk]},
            follow=True,
        )
        assert response.status_code == 200
        return [str(m) for m in response.context["messages"]]

    (ok,) = check()
    assert ok.startswith("Front desk: Realtime") and "accepted" in ok
    simulator.simulator.faults.reject_session_update = True
    (refused,) = check()
    assert "rejected session.update" in refused and "Simulated fault" in refused


def test_it_warns_in_the_admin_when_saving_an_unknown_model(
    admin_client: Any, assistant: Assistant
) -> None:
    assistant.model = "gpt-realtme"
    assistant.save()
    response = admin_client.get(f"/admin/assistants/assistant/{assistant.pk}/change/")
    form = response.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(
        {
            "phone_numbers-TOTAL_FORMS": "0",
            "phone_numbers-INITIAL_FORMS": "0",
            # The tool inlines, empty.
            "transfer_destinations-TOTAL_FORMS": "0",
            "transfer_destinations-INITIAL_FORMS": "0",
            "handoff_routes-TOTAL_FORMS": "0",
            "handoff_routes-INITIAL_FORMS": "0",
            "webhook_tools-TOTAL_FORMS": "0",
            "webhook_tools-INITIAL_FORMS": "0",
            "_save": "Save",
        }
    )
    data = {k: v for k, v in data.items() if v is not False}
    response = admin_client.post(
        f"/admin/assistants/assistant/{assistant.pk}/change/", data, follow=True
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any('model "gpt-realtme" is not one' in t for t in texts), texts
