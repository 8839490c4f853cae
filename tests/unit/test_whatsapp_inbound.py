"""Every inbound message type Meta documents, in both contact shapes, with and without `context`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orderwire.integrations.whatsapp import webhook as wa

FIXTURES = Path(__file__).resolve().parents[2] / "src/orderwire/integrations/whatsapp/fixtures"
OURS = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1QTM1NDBGQzM4QkM4MDhGQjcA"
BSUID = "IN.13491208655302741918"


def only(name: str) -> wa.InboundMessage:
    (message,) = wa.parse(json.loads((FIXTURES / name).read_text())).messages
    return message


def test_image_with_caption_carries_media_id_and_type() -> None:
    m = only("image_message.json")
    assert (m.type, m.text, m.media_id, m.media_mime) == (
        "image",
        "The box arrived torn",
        "1003383421387256",
        "image/jpeg",
    )
    assert (m.phone, m.user_id, m.name, m.context_id, m.reply_id) == ("+919812345678", "", "Asha", "", "")


def test_document_in_the_business_scoped_shape_with_context() -> None:
    m = only("document_message_bsuid.json")
    assert (m.type, m.text, m.media_id, m.media_mime) == (
        "document",
        "invoice-1001.pdf",
        "1259466405153437",
        "application/pdf",
    )
    assert (m.phone, m.user_id, m.context_id) == ("+919812345678", BSUID, OURS)


def test_audio_video_and_sticker_in_one_delivery() -> None:
    audio, video, sticker = wa.parse(json.loads((FIXTURES / "audio_video_sticker.json").read_text())).messages
    assert (audio.type, audio.text, audio.media_mime) == ("audio", "", "audio/ogg; codecs=opus")
    assert (video.type, video.text, video.media_id) == ("video", "see the damage", "1683925092384071")
    assert (sticker.type, sticker.media_mime) == ("sticker", "image/webp")
    assert len({audio.wamid, video.wamid, sticker.wamid}) == 3
    assert all(m.name == "Asha" for m in (audio, video, sticker))


def test_location_and_contacts_become_readable_text() -> None:
    place = only("location_message.json")
    assert place.type == "location"
    assert place.text == "Asha's home, 12 MG Road, Bengaluru 560001, 12.9716,77.5946"
    card = only("contacts_message_bsuid.json")
    assert (card.type, card.text, card.user_id) == ("contacts", "Ravi Kumar +91 98123 45679", BSUID)


@pytest.mark.parametrize("contacts", [True, 7, "Ravi", {"name": {}}, [{"phones": True}, {"phones": "x"}]])
def test_contacts_of_another_shape_read_as_no_text(contacts: object) -> None:
    # Found by the fuzzer: a well-signed message whose `contacts` is not a list of cards is kept, not a 500.
    body = json.loads((FIXTURES / "contacts_message_bsuid.json").read_text())
    body["entry"][0]["changes"][0]["value"]["messages"][0]["contacts"] = contacts
    (m,) = wa.parse(body).messages
    assert (m.type, m.text) == ("contacts", "")


@pytest.mark.parametrize(
    ("name", "kind", "reply_id", "text", "user_id"),
    [
        ("interactive_button_reply.json", "interactive", "cancel:yes:1001", "Yes, cancel it", ""),
        ("list_reply_bsuid.json", "interactive", "wismo:1002", "#1002", BSUID),
        ("button_reply.json", "button", "ndr:reschedule:AWB1", "Reschedule", ""),
    ],
)
def test_taps_carry_their_id_and_the_message_they_answer(
    name: str, kind: str, reply_id: str, text: str, user_id: str
) -> None:
    m = only(name)
    assert (m.type, m.reply_id, m.text, m.user_id) == (kind, reply_id, text, user_id)
    assert m.context_id.startswith("wamid.")


def test_flow_response_keeps_its_json() -> None:
    m = only("nfm_reply.json")
    assert (m.type, m.reply_id) == ("interactive", "nfm_reply")
    assert json.loads(m.text) == {"flow_token": "return-1001", "reason": "size"}


def test_reaction_points_at_the_message_reacted_to() -> None:
    m = only("reaction_message.json")
    assert (m.type, m.text, m.context_id) == ("reaction", "\U0001f44d", OURS)


def test_system_message_has_no_contacts_array() -> None:
    m = only("system_message.json")
    assert (m.type, m.phone, m.name) == ("system", "+919812345678", "")
    assert m.text.startswith("User Asha changed from")


def test_unsupported_and_unknown_types_are_kept_as_they_came() -> None:
    m = only("unsupported_message.json")
    assert (m.type, m.text, m.reply_id) == ("unsupported", "", "")
    assert m.raw["errors"][0]["code"] == 131051
    body: dict[str, Any] = json.loads((FIXTURES / "text_message.json").read_text())
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["type"] = "a_type_from_the_future"
    message["a_type_from_the_future"] = {"whatever": 1}
    (future,) = wa.parse(body).messages
    assert (future.type, future.text, future.raw["a_type_from_the_future"]) == (
        "a_type_from_the_future",
        "",
        {"whatever": 1},
    )


def test_username_only_tap_has_no_phone() -> None:
    m = only("username_only_button_reply.json")
    assert (m.phone, m.user_id, m.name, m.reply_id) == (
        "",
        "IN.99999208655302741918",
        "Kabir",
        "rating:5:1001",
    )


def test_contacts_are_matched_to_their_message_not_by_missing_fields() -> None:
    """Two messages in one delivery, one from a username user: each gets its own contact's name."""
    body: dict[str, Any] = json.loads((FIXTURES / "text_message_username_only.json").read_text())
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"].append({"profile": {"name": "Asha"}, "wa_id": "919812345678"})
    value["messages"].append(
        {
            "from": "919812345678",
            "id": "wamid.second",
            "timestamp": "1795765301",
            "type": "text",
            "text": {"body": "ok"},
        }
    )
    kabir, asha = wa.parse(body).messages
    assert (kabir.name, kabir.phone) == ("Kabir", "")
    assert (asha.name, asha.phone) == ("Asha", "+919812345678")
