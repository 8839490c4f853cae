"""Small readers the shop adapters share: amounts in minor units, phone numbers in E.164.

Shops write amounts as decimal strings in the order's currency ("1499.00") and phone numbers as the
customer typed them ("098123 45678", "+91-98123-45678"); the domain wants integers and E.164.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import phonenumbers
from babel.numbers import get_currency_precision

from orderwire.integrations.base import PayloadError


def minor_units(amount: object, currency: str) -> int:
    """'1499.00' INR -> 149900; a float such as 21.990000000000002 is read through its text."""
    if amount is None or amount == "":
        return 0
    if isinstance(amount, bool) or not isinstance(amount, (str, int, float)):
        raise PayloadError(f"amount {amount!r} is not a number")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as exc:
        raise PayloadError(f"amount {amount!r} is not a number") from exc
    if not value.is_finite():
        raise PayloadError(f"amount {amount!r} is not a number")
    # babel knows each ISO 4217 currency's minor units (INR 2, JPY 0, KWD 3); without one, assume two.
    scale = Decimal(10) ** (get_currency_precision(currency) if currency else 2)
    return int((value * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def e164(raw: str, region: str = "IN") -> str:
    """The number in E.164 (+919812345678), or '' when it is not a valid phone number.

    `region` is the address's ISO country code, used for numbers written without a country code.
    """
    if not raw.strip():
        return ""
    try:
        parsed = phonenumbers.parse(raw, (region or "IN").upper())
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def first_phone(candidates: list[tuple[str, str]]) -> tuple[str, bool]:
    """The first (number, region) that reads as E.164; second item: some number was given at all."""
    given = False
    for raw, region in candidates:
        given = given or bool(raw.strip())
        if number := e164(raw, region):
            return number, True
    return "", given
