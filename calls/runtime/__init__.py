"""The call runtime: the runner that performs a call's actions, the recorder that
writes them, the Channels consumer that glues a media stream to them, and call
control from any process."""
