"""Is a PostgreSQL or Redis server answering? Used by the Makefile and the tests.

``python -m voiceassistant.services_probe postgres URL`` exits 0 when it answers.
Imports no Django, so it is cheap to call before the test run.
"""

from __future__ import annotations

import sys


def postgres_available(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return True
    except Exception:
        return False


def redis_available(url: str) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("postgres", "redis"):
        sys.stderr.write("usage: services_probe postgres|redis URL\n")
        return 2
    probe = postgres_available if argv[1] == "postgres" else redis_available
    return 0 if probe(argv[2]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
