"""A generic stock feed: CSV over HTTP(S) or from a local file."""
