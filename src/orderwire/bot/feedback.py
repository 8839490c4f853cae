"""Ratings and feedback after delivery.

A rating comes from the follow-up template's quick replies (`rating:<score>:<order id>`) or typed
("5 stars", "4/5", "⭐⭐⭐⭐"). It is kept on the order (and its timeline); 2 or less is handed to staff
(`low_rating`), 4 or more is thanked with the shop's review link when one is set. Free-text feedback
after delivery is kept on the order too.
"""

from __future__ import annotations

import dataclasses
import re

from orderwire.bot.chat import Chat
from orderwire.bot.turn import Turn, say
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import SessionMessage, Style
from orderwire.domain.lifecycle import Escalation, Outcome
from orderwire.domain.messages import language_for
from orderwire.domain.model import Order, Stage

PREFIX = "rating:"
LOW, HIGH = 2, 4
FEEDBACK_LIMIT = 1000
_SCORE = re.compile(r"^\s*([1-5])\s*(?:/\s*5|stars?|\*|⭐)?\s*[.!]*\s*$", re.IGNORECASE)

_WORDS = {
    "en": {
        "low": "We are sorry order {number} let you down. Someone from our team will contact you "
        "within {hours} hours to put it right.",
        "mid": "Thank you for rating order {number}. Tell us anytime what we could do better.",
        "high": "Thank you, that made our day!",
        "review": "Would you share it in a review? {url}",
        "feedback": "Thank you for telling us. We have passed it on to the team.",
    },
    "hi": {
        "low": "हमें खेद है कि ऑर्डर {number} से आप ख़ुश नहीं हैं। हमारी टीम {hours} घंटे में आपसे संपर्क करेगी।",
        "mid": "ऑर्डर {number} को रेटिंग देने के लिए धन्यवाद। बताइए हम क्या बेहतर कर सकते हैं।",
        "high": "धन्यवाद, आपने हमारा दिन बना दिया!",
        "review": "क्या आप एक रिव्यू लिखेंगे? {url}",
        "feedback": "बताने के लिए धन्यवाद। हमने यह टीम तक पहुँचा दिया है।",
    },
}


def delivered(order: Order) -> bool:
    """Ratings and feedback are about an order the customer has received."""
    return order.stage in (Stage.DELIVERED, Stage.FOLLOWED_UP)


def score_in(text: str) -> int | None:
    """A rating typed as '5', '4 stars', '3/5' or stars ('⭐⭐⭐⭐'); None for anything else."""
    stars = text.count("⭐")
    if stars and not text.replace("⭐", "").replace("\ufe0f", "").strip():
        return min(stars, 5)
    found = _SCORE.match(text)
    return int(found.group(1)) if found else None


def rate(order: Order, score: int, reply: CustomerReplied, chat: Chat, window_open: bool) -> Turn:
    """Keep the rating; a low one goes to staff, a high one gets the review link."""
    if order.rating == score:
        return Turn(order, Outcome.DUPLICATE, f"rating {score} again")
    words = _WORDS[language_for(order.customer.language)]
    rated = dataclasses.replace(order, rating=score, rated_at=reply.occurred_at)
    cases: tuple[Escalation, ...] = ()
    if score <= LOW:
        detail = {"rating": str(score), "rated_at": reply.occurred_at.isoformat()}
        cases = (Escalation("low_rating", "", "low_rating", detail),)
        text = words["low"].format(number=order.number, hours=chat.human_reply_hours)
    elif score >= HIGH:
        text = words["high"] + (f" {words['review'].format(url=chat.review_url)}" if chat.review_url else "")
    else:
        text = words["mid"].format(number=order.number)
    turn = Turn(rated, Outcome.APPLIED, f"rated {score} of 5", escalations=cases)
    return say(
        turn, f"bot:{reply.wamid}", "rating", SessionMessage(Style.TEXT, text), window_open, "feedback", ""
    )


def tap(order: Order, reply: CustomerReplied, chat: Chat, window_open: bool) -> Turn:
    """A rating button of the follow-up template (`rating:<score>:<order id>`)."""
    score = reply.reply_id.removeprefix(PREFIX).partition(":")[0]
    if not score.isdigit() or not 1 <= int(score) <= 5:
        return Turn(order, Outcome.IGNORED, f"rating: unreadable score {score!r}")
    return rate(order, int(score), reply, chat, window_open)


def comment(order: Order, reply: CustomerReplied, window_open: bool) -> Turn:
    """Free-text feedback about a delivered order: kept, and thanked."""
    said = " ".join(reply.text.split())
    kept = f"{order.feedback}\n{said}".strip() if order.feedback else said
    updated = dataclasses.replace(order, feedback=kept[-FEEDBACK_LIMIT:])
    text = _WORDS[language_for(order.customer.language)]["feedback"]
    turn = Turn(updated, Outcome.APPLIED, f"feedback: {said[:200]}")
    return say(
        turn, f"bot:{reply.wamid}", "feedback", SessionMessage(Style.TEXT, text), window_open, "feedback", ""
    )
