"""Process operations: the command lines of the servers ``manage.py serve`` runs."""
