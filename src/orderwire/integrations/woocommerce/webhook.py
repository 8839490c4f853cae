"""WooCommerce webhooks: order.created / order.updated (and restored), HMAC-signed with the webhook secret.

Sources: WooCommerce's WC_Webhook (plugins/woocommerce/includes/class-wc-webhook.php in
github.com/woocommerce/woocommerce): `deliver()` POSTs the JSON body with `X-WC-Webhook-Source`,
`-Topic`, `-Resource`, `-Event`, `-Signature` (`generate_signature`: base64 HMAC-SHA256 of the body as
sent, keyed with the webhook's secret), `-ID` and `-Delivery-ID` (`get_new_delivery_id`:
`wp_hash(webhook id . strtotime('now'))`, so two deliveries of one webhook within one second share it);
`deliver_ping()` POSTs the form body `webhook_id=<id>` with no signature when a webhook is saved active,
and counts anything but 200 as failure. Topics: woocommerce.github.io/woocommerce-rest-api-docs/#webhooks
(order.created, order.updated, order.deleted, order.restored; product.*, customer.*, coupon.*, action.*).

Dedupe: the delivery id together with a hash of the body, since the id alone repeats within a second.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime

from orderwire.integrations.base import (
    Delivery,
    PayloadError,
    Routed,
    body_key,
    header,
    header_matches,
    json_object,
    text,
)
from orderwire.integrations.signatures import hmac_sha256_base64
from orderwire.integrations.woocommerce.orders import order_events

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_ID_HEADER = "X-WC-Webhook-Delivery-ID"
ORDER_TOPICS = ("order.created", "order.updated", "order.restored")
PING = re.compile(rb"webhook_id=([0-9]{1,20})")


def signature_for(secret: str, raw: bytes) -> str:
    """The header value WooCommerce would send for this body."""
    return hmac_sha256_base64(secret.encode(), raw)


def ping(headers: Mapping[str, str], raw: bytes) -> Delivery | None:
    """WooCommerce's unsigned creation ping, exactly as deliver_ping() sends it; None for anything else."""
    found = PING.fullmatch(raw)
    if found is None or header(headers, SIGNATURE_HEADER):
        return None
    webhook_id = found.group(1).decode()
    return Delivery(f"ping:{webhook_id}", "ping", (), f"webhook {webhook_id} created (unsigned ping)")


class WooCommerceWebhook:
    """The WooCommerce webhook adapter."""

    name = "woocommerce"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """`X-WC-Webhook-Signature` matches the raw body (constant time)."""
        return bool(secret) and header_matches(headers, SIGNATURE_HEADER, signature_for(secret, raw))

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """The canonical events of an order delivery; other topics are noted."""
        topic = header(headers, TOPIC_HEADER).strip()
        body = json_object(raw)
        delivery_id = header(headers, DELIVERY_ID_HEADER).strip()
        digest = hashlib.sha256(raw).hexdigest()[:32]
        key = f"delivery:{delivery_id}:{digest}" if delivery_id else body_key(raw)
        if not topic:
            raise PayloadError(f"{TOPIC_HEADER} missing")
        if topic not in ORDER_TOPICS:
            return Delivery(key, topic, (), f"{topic}: not used")
        order_id = text(body, "id")
        if not order_id:
            raise PayloadError("order id missing")
        events, note = order_events(body)
        return Delivery(key, topic, tuple(Routed(f"order:{order_id}", e) for e in events), note)


ADAPTER = WooCommerceWebhook()
