"""Logging for `orderwire serve` and `worker`: text or JSON lines, with personal data masked.

Masking happens on the formatted message and on every extra field, whatever the format: phone numbers
(10 to 15 digits, with or without +, single spaces or dashes between them), email addresses, and any
extra field whose name says it holds personal data (name, phone, email, address, text, body).
Names inside free text cannot be recognised reliably, so code must not put them in log messages.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 10 to 15 digits, single spaces or dashes between groups: "+91 98123 45678", "9812345678".
PHONE = re.compile(r"(?<![\w:.+-])\+?\d(?:[ -]?\d){9,14}(?![\w:])")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PERSONAL_FIELDS = frozenset({"name", "customer_name", "phone", "email", "address", "text", "body", "to"})
MASK = "***"
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def mask(text: str) -> str:
    """The text with emails and phone numbers replaced (a phone keeps its last two digits)."""
    text = EMAIL.sub("<email>", text)

    def hide(found: re.Match[str]) -> str:
        if DATE.search(found.group()):  # "2026-11-27 10" is a time, not a number
            return found.group()
        return f"<phone …{re.sub(r'[^0-9]', '', found.group())[-2:]}>"

    return PHONE.sub(hide, text)


def _mask_value(key: str, value: Any) -> Any:
    if key.lower() in PERSONAL_FIELDS:
        return MASK
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value("", v) for v in value]
    return value


class MaskPersonalData(logging.Filter):
    """Rewrites each record's message and extra fields with personal data masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask in place; never drops a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = mask(message), None
        for key in set(record.__dict__) - _STANDARD:
            record.__dict__[key] = _mask_value(key, record.__dict__[key])
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in sorted(set(record.__dict__) - _STANDARD):
            value = record.__dict__[key]
            line[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """Install the root handler for a service process: masking always, JSON when asked."""
    handler = logging.StreamHandler()
    handler.addFilter(MaskPersonalData())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request lines would repeat tracking tokens
