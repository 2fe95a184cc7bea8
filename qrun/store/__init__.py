"""The run folder's owner: writing it, reading it back (confined, untrusted), job records and their codec, history."""
