"""Cashfree Payments: the signed payment and refund webhooks, and the refund API."""
