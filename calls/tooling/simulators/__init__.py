"""Local stand-ins for the outside world: a Realtime API server and a Twilio caller.

Shipped with the product for development, demos, tests and the benchmark; nothing
here contacts OpenAI or Twilio. No module in this package imports Django: the
management commands ``realtime_simulator``, ``simulate_call`` and ``demo_call`` wrap
them. ``audio`` holds the mu-law codec and test signals both sides use.
"""
