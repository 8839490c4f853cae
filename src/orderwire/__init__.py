"""Orderwire: an order's journey from payment to doorstep, as a WhatsApp conversation."""

__version__ = "0.1.0"
