"""Razorpay: the signed payment, order and refund webhooks, and the refund API."""
