"""Delhivery: the scan push webhook (a configured token) and its status-type table."""
