"""The dev-tools app (label ``devtools``): what a developer runs, not the product.

The simulators (local stand-ins for OpenAI, Twilio and a webhook tool), the
benchmark, every server the project was measured on (``servers``) and the
commands that run them (``demo_call``, ``simulate_call``, ``realtime_simulator``,
``tool_echo_server``, ``seed_calls``, ``bench``). Settings install it with DEBUG on
or DEVTOOLS=true; the production image leaves it out (``.dockerignore``). Product
code never imports from it: it sits above every other layer.
"""
