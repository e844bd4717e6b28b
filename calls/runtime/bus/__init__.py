"""The call bus: the channel-layer messages between a live call's runner and the
rest of the product, in any process.

- ``live_events``: calls starting, changing and ending, and their transcript, for
  live viewers;
- ``control``: hang up or transfer a call in progress, and the runner's answer;
- ``listen``: who listens in to a call, and the batches of its audio.

It sits below the services, the runtime and the pages so that each of them can
publish or send without importing the others.
"""
