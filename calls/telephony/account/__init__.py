"""The Twilio account: checking the signatures of its requests (``auth``) and
calling its REST API (``rest``), both configured from the settings."""
