"""Every ASGI server the project has been measured on, as command lines.

``commands`` adds daphne (``make run``'s server, and the end-to-end tests'
second one), daphne on uvloop, hypercorn and granian to the uvicorn variants
``manage.py serve`` offers (``calls.ops.servers``). The extra ones are bench and
test options only: hypercorn and granian fail the SIGTERM end-to-end test.
``uvloop_daphne`` and ``hypercorn_config`` are what two of those command lines run.
"""
