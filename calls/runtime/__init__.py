"""The call runtime: the runner that performs a call's actions, the log writer
that writes them, the Channels consumer that glues a media stream to them, and the
sweeper. The messages they exchange with other processes are the bus's
(``calls.runtime.bus``)."""
