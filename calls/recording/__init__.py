"""Call recordings: the two channels placed on the call's timeline, the spool
writer and the WAV file. No Django (the runtime and services save the file)."""
