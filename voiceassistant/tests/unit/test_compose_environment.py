"""docker compose gives every service of ours the whole .env, and checks web's
health on /healthz."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def our_services() -> dict[str, Any]:
    """The services built from this repository (they run manage.py)."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("build")
    }


def example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def test_every_service_of_ours_reads_the_env_file() -> None:
    services = our_services()
    assert set(services) >= {"web", "purge"}
    for name, service in services.items():
        files = service.get("env_file")
        assert files, f"{name} has no env_file"
        paths = [f["path"] if isinstance(f, dict) else f for f in files]
        assert ".env" in paths, name


def test_every_example_variable_reaches_the_services() -> None:
    # Through env_file every variable of .env arrives, unless the service's own
    # environment replaces it: only the stack's own values may.
    stack_own = {"DATABASE_URL", "REDIS_URL", "DEBUG", "DEVTOOLS", "SECRET_KEY"}
    variables = example_variables()
    assert {"AZURE_OPENAI_API_KEY", "GREETING_CACHE", "PRICE_INPUT_TEXT_PER_M"} <= (
        variables
    )
    for name, service in our_services().items():
        replaced = set(service.get("environment") or {})
        for variable in replaced - stack_own:
            value = str(service["environment"][variable])
            assert f"${{{variable}" in value, (
                f"{name} sets {variable} without reading it from .env"
            )


def test_web_has_a_healthcheck_on_healthz() -> None:
    web = compose()["services"]["web"]
    test = " ".join(web["healthcheck"]["test"])
    assert "/healthz" in test
    assert compose()["services"]["purge"]["depends_on"]["web"]["condition"] == (
        "service_healthy"
    )
