"""What the product does to keep callers' personal data private.

- ``masking``: who sees callers' numbers in full, and how a number is masked.
- ``redaction``: personal data found in transcript text and replaced before it is
  stored.
- ``retention``: recordings and transcripts deleted once their assistant's
  retention has passed (``manage.py purge_calls``).
- ``forget``: one caller's recordings and transcripts deleted on request
  (``manage.py forget_caller``, the call admin's action).

The deletions themselves are written through ``calls.services.erasure``. Nothing
here imports the pages, the call runtime or the dev tooling.
"""
