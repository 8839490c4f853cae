"""The customer writes to us: what the message asks (bot/intents.py), and the dialogue that answers it.

Typed messages go through the classifier; taps on our own buttons and lists are routed by their reply-id
prefix (`menu:`, `wismo:`, `cancel:`, `addr:`, `rating:`, `return:`) to the dialogue that sent
them, however long ago. Every answer is a session message keyed by the customer's message id, so a
redelivered webhook never answers twice; outside the service window it becomes a staff case instead.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from orderwire.bot import cancel, feedback, intents, order_address, returns, wismo
from orderwire.bot.chat import Chat, menu
from orderwire.bot.turn import Turn, say
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import SessionMessage, Style
from orderwire.domain.lifecycle import Escalation, Outcome
from orderwire.domain.messages import language_for
from orderwire.domain.model import Order
from orderwire.domain.policy import ShopPolicy

PREFIXES = (
    "menu:",
    wismo.PREFIX,
    cancel.PREFIX,
    order_address.PREFIX,
    feedback.PREFIX,
    "return:",
)
# Two unclear messages this close together go to staff; further apart, the bot asks again.
UNCLEAR_RUN = timedelta(hours=24)

_WORDS = {
    "en": {
        "greeting": "Hello{name}! How can we help you today?",
        "unclear": "Sorry, I did not quite get that. Pick one of these, or write it in other words:",
        "handed": "Let me pass this to our team: someone will reply here within {hours} hours.",
        "human": "Sure, someone from our team will reply here within {hours} hours.",
    },
    "hi": {
        "greeting": "नमस्ते{name}! हम आपकी क्या मदद करें?",
        "unclear": "माफ़ कीजिए, मैं समझ नहीं पाया। इनमें से चुनें, या दूसरे शब्दों में लिखें:",
        "handed": "मैं इसे हमारी टीम तक पहुँचा रहा हूँ: {hours} घंटे में कोई यहाँ जवाब देगा।",
        "human": "ज़रूर, हमारी टीम से कोई {hours} घंटे में यहाँ जवाब देगा।",
    },
}


def handles(reply_id: str) -> bool:
    """True for the reply ids of the dialogues in this module."""
    return reply_id.startswith(PREFIXES)


def respond_tap(
    order: Order, reply: CustomerReplied, now: datetime, policy: ShopPolicy, window_open: bool, chat: Chat
) -> Turn:
    """A tap on one of our buttons or list rows."""
    rid = reply.reply_id
    order = _understood(order)
    if rid == "menu:wismo":
        return wismo.ask(order, chat, reply, window_open)
    if rid == "menu:human":
        return _human(order, reply, window_open, chat)
    if rid == "menu:return" or rid.startswith("return:"):
        return returns.start(order, now, policy, window_open)
    if rid.startswith(wismo.PREFIX):
        return wismo.answer(order, chat, reply, window_open)
    if rid.startswith(cancel.PREFIX):
        return cancel.respond(order, reply, now, policy, window_open)
    if rid.startswith(order_address.PREFIX):
        return order_address.respond(order, reply, window_open)
    if rid.startswith(feedback.PREFIX):
        return feedback.tap(order, reply, chat, window_open)
    return Turn(order, Outcome.IGNORED, f"unknown reply id {rid!r}")


def respond_text(
    order: Order, reply: CustomerReplied, now: datetime, policy: ShopPolicy, window_open: bool, chat: Chat
) -> Turn:
    """A typed message: a rating for a delivered order, else what the classifier says it asks."""
    if order_address.awaiting(order, now):
        return order_address.respond_text(order, reply, window_open)
    score = feedback.score_in(reply.text)
    if score is not None and feedback.delivered(order):
        return feedback.rate(_understood(order), score, reply, chat, window_open)
    found = intents.classify(reply.text)
    intent = found.intent if found.confidence >= intents.CONFIDENT else "other"
    if intent == "other":
        return _unclear(order, reply, now, window_open, chat)
    order = _understood(order)
    if intent == "where_is_my_order":
        return wismo.ask(order, chat, reply, window_open)
    if intent == "cancel_order":
        return cancel.ask(order, chat, reply, window_open)
    if intent == "change_address":
        return order_address.start(order, reply, window_open)
    if intent == "return_or_exchange":
        return returns.start(order, now, policy, window_open)
    if intent == "talk_to_human":
        return _human(order, reply, window_open, chat)
    if intent in ("opt_out", "opt_in"):
        # The app records the change and confirms it once (as for the bare STOP / START keywords).
        return Turn(
            order,
            Outcome.APPLIED,
            f"customer asked to {intent.replace('_', ' ')}",
            consent=intent == "opt_in",
        )
    if intent == "feedback":
        if feedback.delivered(order):
            return feedback.comment(order, reply, window_open)
        return _greeting(order, reply, window_open)
    return _greeting(order, reply, window_open)


def _understood(order: Order) -> Order:
    return dataclasses.replace(order, unclear=0) if order.unclear else order


def _words(order: Order) -> dict[str, str]:
    return _WORDS[language_for(order.customer.language)]


def _greeting(order: Order, reply: CustomerReplied, window_open: bool) -> Turn:
    first = order.customer.name.split(" ")[0] if order.customer.name else ""
    body = _words(order)["greeting"].format(name=f" {first}" if first else "")
    turn = Turn(order, Outcome.APPLIED, "greeting answered")
    return say(
        turn, f"bot:{reply.wamid}", "greeting", menu(body, order.customer.language), window_open, "bot", ""
    )


def _unclear(order: Order, reply: CustomerReplied, now: datetime, window_open: bool, chat: Chat) -> Turn:
    """Once: ask again with the quick options. Twice in a row (within UNCLEAR_RUN): hand it to staff."""
    words = _words(order)
    recent = order.bot_asked_at is not None and now - order.bot_asked_at <= UNCLEAR_RUN
    if order.unclear >= 1 and recent:
        detail = {"message": reply.text[:500], "at": reply.occurred_at.isoformat()}
        case = Escalation("bot_could_not_answer", "", f"unclear:{reply.wamid}", detail)
        turn = Turn(
            dataclasses.replace(order, unclear=0),
            Outcome.APPLIED,
            "not understood twice: handed to staff",
            escalations=(case,),
        )
        text = words["handed"].format(hours=chat.human_reply_hours)
        return say(
            turn, f"bot:{reply.wamid}", "handed", SessionMessage(Style.TEXT, text), window_open, "bot", ""
        )
    asked = dataclasses.replace(order, unclear=1, bot_asked_at=reply.occurred_at)
    turn = Turn(asked, Outcome.APPLIED, "not understood: asked again")
    message = menu(words["unclear"], order.customer.language)
    return say(turn, f"bot:{reply.wamid}", "unclear", message, window_open, "bot", "")


def _human(order: Order, reply: CustomerReplied, window_open: bool, chat: Chat) -> Turn:
    detail = {"message": reply.text[:500], "at": reply.occurred_at.isoformat()}
    day = reply.occurred_at.date().isoformat()
    case = Escalation("customer_asked_for_human", "", f"human:{day}", detail)
    text = _words(order)["human"].format(hours=chat.human_reply_hours)
    turn = Turn(order, Outcome.APPLIED, "asked for a person: handed to staff", escalations=(case,))
    return say(turn, f"bot:{reply.wamid}", "human", SessionMessage(Style.TEXT, text), window_open, "bot", "")
