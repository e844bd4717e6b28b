"""Local stand-ins for the outside world: the Realtime and GPT-Live API servers, a
Twilio caller (with Twilio's REST API) and a webhook tool endpoint.

For development, demos, tests and the benchmark; nothing here contacts OpenAI or
Twilio. No module in this package imports Django: the dev-tools commands
``realtime_simulator``, ``simulate_call``, ``demo_call`` and ``tool_echo_server``
wrap them. ``audio`` holds the mu-law codec and test signals both sides use.
"""
