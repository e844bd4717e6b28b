"""Speech-to-speech engines behind one interface (see ``calls.engines.base``)."""
