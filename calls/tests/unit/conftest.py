"""The unit level: pure code and local sockets, no database (a unit test that
asks for one fails collection: the root conftest). Its fixtures are the root
conftest's settings; what several unit modules share is support code in
``calls/tests/support/``."""
