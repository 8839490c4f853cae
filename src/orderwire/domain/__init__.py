"""Pure decisions: no I/O, no clock reads. Everything here is a function of its arguments."""
