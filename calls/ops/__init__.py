"""Process operations: server command lines and the uvloop launcher."""
