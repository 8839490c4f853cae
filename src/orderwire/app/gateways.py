"""The configured payment gateway's refund API, as a PaymentPort.

`payment_gateway` names it; unset, the first configured of Razorpay, Stripe and Cashfree is used. The
clients report refusals as `GatewayError` (integrations do not import app); here they become
`ports.VendorError` with the same `retryable`, so callers see one error whatever the gateway.
"""

from __future__ import annotations

from orderwire.app.ports import PaymentPort, RefundRequest, VendorError
from orderwire.integrations.cashfree.api import CashfreeRefunds
from orderwire.integrations.gateway import GatewayError
from orderwire.integrations.razorpay.api import RazorpayRefunds
from orderwire.integrations.stripe.api import StripeRefunds
from orderwire.settings import Settings

ORDER = ("razorpay", "stripe", "cashfree")


class _Gateway:
    """A gateway client whose errors are VendorErrors."""

    def __init__(self, client: PaymentPort):
        self._client = client
        self.name = client.name

    def refund(self, request: RefundRequest) -> str:
        """The client's refund; its GatewayError as VendorError."""
        try:
            return self._client.refund(request)
        except GatewayError as exc:
            raise VendorError(str(exc), retryable=exc.retryable) from exc


def configured(settings: Settings) -> list[str]:
    """The gateways whose API keys are set, in order of preference."""
    found = {
        "razorpay": bool(settings.razorpay_key_id and _secret(settings.razorpay_key_secret)),
        "stripe": bool(_secret(settings.stripe_secret_key)),
        "cashfree": bool(settings.cashfree_client_id and _secret(settings.cashfree_client_secret)),
    }
    return [name for name in ORDER if found[name]]


def build(settings: Settings) -> PaymentPort | None:
    """The chosen gateway's refund API, or None when it (or, unchosen, every gateway) is not configured."""
    available = configured(settings)
    name = settings.payment_gateway or (available[0] if available else "")
    if name not in available:
        return None
    s = settings
    client: PaymentPort
    if name == "razorpay":
        client = RazorpayRefunds(s.razorpay_api_url, s.razorpay_key_id, _secret(s.razorpay_key_secret))
    elif name == "stripe":
        client = StripeRefunds(s.stripe_api_url, _secret(s.stripe_secret_key))
    else:
        client = CashfreeRefunds(
            s.cashfree_api_url,
            s.cashfree_client_id,
            _secret(s.cashfree_client_secret),
            s.cashfree_api_version,
        )
    return _Gateway(client)


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else ""
