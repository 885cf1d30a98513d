"""chainarb backend: the online dispute resolution service."""
