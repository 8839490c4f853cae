"""Stripe: the signed event webhooks (Checkout, PaymentIntents, refunds), and the refund API."""
