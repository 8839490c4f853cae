"""What a customer-level dialogue knows beyond the order a message was routed to, and shared wording.

The app layer routes each customer message to one order (it is locked while the bot answers) and passes a
`Chat`: that order's tracking link, the customer's other open orders (read, not locked: the bot only names
them, e.g. to ask which one the customer means) and the shop's settings for the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderwire.domain.interactive import Choice, SessionMessage, Style
from orderwire.domain.messages import language_for
from orderwire.domain.model import Stage

# An order the customer can still ask about the delivery of; anything else is closed.
CLOSED_STAGES = frozenset({Stage.DELIVERED, Stage.FOLLOWED_UP, Stage.CANCELLED})

# Reply ids naming an order, with how many parts come between the prefix and the order id:
# `wismo:<order id>`, `cancel:yes:<order id>`, `rating:<score>:<order id>`, ...
ORDER_PREFIXES: dict[str, int] = {
    "wismo": 0,
    "return": 0,
    "problem": 0,
    "cancel": 1,
    "addr": 1,
    "rating": 1,
    "rto": 1,
}


@dataclass(frozen=True)
class OrderBrief:
    """Another order of the same customer, as a list row shows it."""

    order_id: str
    number: str
    stage: Stage


@dataclass(frozen=True)
class Chat:
    """The conversation around one message: this order's tracking link, the customer's open orders
    (newest first, this one included when open) and the shop's conversation settings."""

    tracking_url: str = ""
    open_orders: tuple[OrderBrief, ...] = ()
    review_url: str = ""
    human_reply_hours: int = 4


def is_open(stage: Stage) -> bool:
    """Not delivered, cancelled or closed."""
    return stage not in CLOSED_STAGES


def order_named(reply_id: str) -> str:
    """The order id a reply id carries ('' when it names none)."""
    prefix, _, rest = reply_id.partition(":")
    skip = ORDER_PREFIXES.get(prefix)
    if skip is None or not rest:
        return ""
    parts = rest.split(":", skip)
    return parts[skip] if len(parts) > skip else ""


_STAGE_WORDS: dict[str, dict[Stage, str]] = {
    "en": {
        Stage.PLACED: "placed and waiting for payment",
        Stage.CONFIRMED: "confirmed and being prepared",
        Stage.PROCESSING: "being packed",
        Stage.DISPATCHED: "on its way",
        Stage.OUT_FOR_DELIVERY: "out for delivery today",
        Stage.DELIVERY_FAILED: "waiting for another delivery attempt",
        Stage.RTO: "on its way back to us",
        Stage.LOST: "delayed with the courier; our team is checking",
        Stage.DELIVERED: "delivered",
        Stage.FOLLOWED_UP: "delivered",
        Stage.CANCELLED: "cancelled",
    },
    "hi": {
        Stage.PLACED: "भुगतान का इंतज़ार कर रहा है",
        Stage.CONFIRMED: "कन्फ़र्म है और तैयार हो रहा है",
        Stage.PROCESSING: "पैक हो रहा है",
        Stage.DISPATCHED: "रास्ते में है",
        Stage.OUT_FOR_DELIVERY: "आज डिलीवरी के लिए निकला है",
        Stage.DELIVERY_FAILED: "फिर से डिलीवरी के इंतज़ार में है",
        Stage.RTO: "हमारे पास वापस आ रहा है",
        Stage.LOST: "कूरियर के पास अटका है; हमारी टीम देख रही है",
        Stage.DELIVERED: "डिलीवर हो चुका है",
        Stage.FOLLOWED_UP: "डिलीवर हो चुका है",
        Stage.CANCELLED: "रद्द हो चुका है",
    },
}

_MENU: dict[str, tuple[str, str, str]] = {
    "en": ("Where's my order", "Talk to a person", "Return / exchange"),
    "hi": ("मेरा ऑर्डर कहाँ है", "किसी से बात करें", "रिटर्न / बदलाव"),
}
MENU_IDS = ("menu:wismo", "menu:human", "menu:return")


def stage_words(stage: Stage, language: str) -> str:
    """The stage as the customer would say it."""
    return _STAGE_WORDS[language_for(language)][stage]


def menu(body: str, language: str) -> SessionMessage:
    """A short message with the three quick options (where is my order, a person, a return)."""
    titles = _MENU[language_for(language)]
    return SessionMessage(
        Style.BUTTONS, body, tuple(Choice(i, t) for i, t in zip(MENU_IDS, titles, strict=True))
    )


def pick_order(
    body: str, button: str, prefix: str, orders: tuple[OrderBrief, ...], language: str
) -> SessionMessage:
    """A list of the customer's orders (at most 10) whose rows carry `<prefix><order id>`."""
    rows = tuple(
        Choice(f"{prefix}{o.order_id}", _fit(o.number, 24), _fit(stage_words(o.stage, language), 72))
        for o in orders[:10]
    )
    return SessionMessage(Style.LIST, body, rows, button)


def _fit(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
