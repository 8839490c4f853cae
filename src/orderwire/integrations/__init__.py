"""One package per vendor: verify, parse into canonical events, and the outbound calls it offers."""
