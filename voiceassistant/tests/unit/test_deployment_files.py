"""docker-compose.yml, the Dockerfile, .env.example and the docs agree with settings.

The image holds the product only: .dockerignore leaves the tests and the dev-tools
app out, the Dockerfile copies none of them in, and the image's settings install
no app it does not hold.

There is no Docker engine in CI, so the compose file is checked by reading it: the
services, their health checks, the web command, and that every variable it passes
is one settings.py reads and .env.example documents.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
# The production entry point, exec'd so that the server gets docker stop's SIGTERM.
SERVE = "exec python manage.py serve --port 8000"


# Read by boto3 itself (recordings in a bucket), not by settings.py.
BOTO3_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def settings_variables() -> set[str]:
    """Every environment variable voiceassistant/settings.py reads."""
    text = (ROOT / "voiceassistant" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', text))


def env_example() -> dict[str, tuple[str, bool]]:
    """.env.example's variables: name -> (value, active i.e. not commented out)."""
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            found[match[2]] = (match[3], match[1] is None)
    return found


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_it_finds_the_settings_variables() -> None:
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "OPENAI_REALTIME_URL"} <= (
        settings_variables()
    )


def test_it_defines_web_postgres_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert set(services) == {"web", "postgres", "redis", "purge"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert any(
        volume.endswith(":/var/lib/postgresql/data")
        for volume in services["postgres"]["volumes"]
    )


def test_it_starts_web_after_healthy_services_with_the_production_server(
    compose: dict[str, Any],
) -> None:
    web = compose["services"]["web"]

    assert web["build"] == "."
    assert "python manage.py migrate --noinput &&" in web["command"]
    assert SERVE in web["command"]
    assert web["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert web["environment"]["DEBUG"] == "false"


def test_it_lets_web_scale_without_a_host_port_clash(compose: dict[str, Any]) -> None:
    # A fixed "8000:8000" would stop a second replica from starting.
    for mapping in compose["services"]["web"].get("ports", []):
        host = str(mapping).rsplit(":", 1)[0]
        assert "-" in host, f"{mapping} pins a single host port"
    for name in ("postgres", "redis"):
        assert "ports" not in compose["services"][name]


def test_it_passes_only_variables_settings_reads(compose: dict[str, Any]) -> None:
    # The rest of .env arrives through env_file; these are the stack's own.
    passed = set(compose["services"]["web"]["environment"])

    assert passed >= {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}
    assert passed <= settings_variables() | BOTO3_VARIABLES
    assert passed <= set(env_example())


def test_it_gives_web_and_purge_the_same_recordings_storage(
    compose: dict[str, Any],
) -> None:
    # Both read the whole .env (RECORDINGS_S3_* and AWS_* included) and share
    # the media volume.
    for name in ("web", "purge"):
        service = compose["services"][name]
        assert [f["path"] for f in service["env_file"]] == [".env"]
        assert not any(
            key.startswith("RECORDINGS_S3_") or key in BOTO3_VARIABLES
            for key in service["environment"]
        )
    volumes = [set(compose["services"][n]["volumes"]) for n in ("web", "purge")]
    assert volumes[0] & volumes[1] == {"media:/app/media"}


def test_it_interpolates_only_documented_variables(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))

    assert interpolated
    assert interpolated <= set(env_example())


def test_it_builds_the_image_from_python_311_slim() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert "pip install -r requirements.txt" in dockerfile
    assert SERVE in dockerfile
    ignored = dockerignore()
    assert ".env" in ignored
    # The image holds the product: not the tests, not the benchmark.
    assert left_out_of_image("calls/tests") and left_out_of_image("calls/tooling/bench")


def dockerignore() -> list[str]:
    """.dockerignore's patterns, in order."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and line[0] != "#"]


def matches(pattern: str, path: str) -> bool:
    """Docker's match: segment by segment, ``*`` never crossing a ``/``."""
    wanted, parts = pattern.strip("/").split("/"), path.split("/")
    return len(wanted) == len(parts) and all(
        fnmatch.fnmatchcase(part, glob)
        for part, glob in zip(parts, wanted, strict=True)
    )


def left_out_of_image(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` (or a folder above it) out of the build
    context; the last pattern that matches wins, ``!`` taking a path back in."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    out = False
    for pattern in dockerignore():
        keep = pattern.startswith("!")
        if any(matches(pattern.lstrip("!"), prefix) for prefix in prefixes):
            out = not keep
    return out


def dockerfile_instructions(name: str) -> list[list[str]]:
    """Every ``name`` instruction's arguments (COPY, ENV...), lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        line.split()[1:] for line in text.splitlines() if line.split()[:1] == [name]
    ]


def dev_tooling_paths() -> list[str]:
    """What only developers use: the tests, the dev-tools app and their settings."""
    tests = [path.parent for path in ROOT.glob("*/tests/__init__.py")]
    tooling = [ROOT / "calls" / "tooling", *(ROOT / "calls" / "tooling").rglob("*.py")]
    files = [ROOT / "conftest.py", ROOT / "requirements-dev.txt"]
    return sorted(str(path.relative_to(ROOT)) for path in [*tests, *tooling, *files])


def test_it_copies_no_dev_tooling_into_the_image() -> None:
    dev = dev_tooling_paths()
    assert {"calls/tests", "calls/tooling", "calls/tooling/apps.py"} <= set(dev)
    assert [path for path in dev if not left_out_of_image(path)] == []
    product = [
        "manage.py",
        "requirements.txt",
        "calls/models.py",
        "calls/ops/servers.py",
    ]
    product += ["calls/static", "assistants/models.py", "voiceassistant/settings.py"]
    product += ["templates"]
    assert [path for path in product if left_out_of_image(path)] == []
    for *sources, _destination in dockerfile_instructions("COPY"):
        for source in sources:
            assert not any(
                source.rstrip("/") == path or source.startswith(f"{path}/")
                for path in dev
            ), f"COPY {source} puts dev tooling in the image"
    assert dockerfile_instructions("ADD") == []


def installed_apps(extra: dict[str, str]) -> list[str]:
    """INSTALLED_APPS as settings compute it in a fresh process with ``extra`` set
    (and none of the variables settings read taken from this one)."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.INSTALLED_APPS))"
    )
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in settings_variables()
    }
    clean["DJANGO_SETTINGS_MODULE"] = "voiceassistant.settings"
    clean["ENV_FILE"] = os.devnull  # not the developer's .env either
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "SECRET_KEY": "k" * 50, **extra},
        capture_output=True,
        text=True,
        check=True,
    )
    apps: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return apps


def installs_devtools(extra: dict[str, str]) -> bool:
    return any(app.startswith("calls.tooling") for app in installed_apps(extra))


def test_it_installs_the_devtools_app_only_with_debug_or_when_asked() -> None:
    assert not installs_devtools({"DEBUG": "false"})
    assert installs_devtools({"DEBUG": "true"})
    assert not installs_devtools({"DEBUG": "true", "DEVTOOLS": "false"})
    assert installs_devtools({"DEBUG": "false", "DEVTOOLS": "true"})


def test_it_leaves_the_devtools_app_out_of_the_images_settings() -> None:
    """The image's ENV, even with DEBUG on (its collectstatic step), installs no
    app the image does not hold."""
    image_env = dict(
        pair.split("=", 1)
        for arguments in dockerfile_instructions("ENV")
        for pair in arguments
    )
    assert image_env.get("DEVTOOLS") == "false"
    assert not installs_devtools({**image_env, "DEBUG": "true"})


def test_it_documents_every_setting_in_env_example() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    documented = env_example()

    assert sorted(settings_variables() - set(documented)) == []
    for index, line in enumerate(lines):
        if re.fullmatch(r"(# )?[A-Z][A-Z0-9_]*=.*", line):
            above = lines[index - 1]
            assert above.startswith("# ") and "=" not in above.split()[1], (
                f"{line!r} needs a one-line comment above it"
            )


def test_it_documents_every_setting_in_the_configuration_page() -> None:
    readme = (ROOT / "docs" / "configuration.md").read_text()

    missing = [name for name in settings_variables() if f"`{name}`" not in readme]
    assert missing == []


def test_it_boots_with_the_env_example_values() -> None:
    """Its active (uncommented) values change nothing: they equal the defaults."""
    names = ["DEBUG", "ALLOWED_HOSTS", "DATABASES", "CHANNEL_LAYERS", "PUBLIC_BASE_URL"]
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: str(getattr(settings, n)) for n in {names!r}}}))"
    )
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in settings_variables()
    }
    clean["DJANGO_SETTINGS_MODULE"] = "voiceassistant.settings"
    clean["ENV_FILE"] = os.devnull  # not the developer's .env either
    active = {name: value for name, (value, on) in env_example().items() if on}

    def boot(extra: dict[str, str]) -> dict[str, str]:
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**clean, **extra},
            capture_output=True,
            text=True,
            check=True,
        )
        booted: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
        return booted

    assert active, ".env.example should have some active (empty) lines"
    assert boot(active) == boot({})
