"""Code the tests share and that is not a test module: recorded frames and
harnesses, fakes, simulator clients, validators and the end-to-end helpers. Test
modules import from here, never from one another."""
