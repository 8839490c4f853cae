"""/sandbox: a WhatsApp stand-in for trying Orderwire with no Meta account.

The Graph endpoint below receives what the service sends, exactly as Meta would; the phone page shows
each customer's chat; what the visitor types or taps goes back through POST /webhooks/whatsapp, signed
with the app secret like Meta's own deliveries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from orderwire.app import sandbox
from orderwire.app.runtime import Runtime
from orderwire.integrations.signatures import equal
from orderwire.integrations.whatsapp import fake
from orderwire.integrations.whatsapp.webhook import SIGNATURE_HEADER, signature_for
from orderwire.web.deps import RuntimeDep

router = APIRouter(prefix="/sandbox", tags=["sandbox"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


async def deliver_webhook(request: Request, rt: Runtime, body: dict[str, Any]) -> None:
    """POST a Meta-shaped webhook to our own /webhooks/whatsapp, signed with the app secret."""
    raw = json.dumps(body).encode()
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        await client.post(
            "/webhooks/whatsapp",
            content=raw,
            headers={
                "content-type": "application/json",
                SIGNATURE_HEADER: signature_for(rt.app_secret, raw),
            },
        )


@router.post("/graph/{version}/{phone_number_id}/messages")
async def graph_send(
    version: str, phone_number_id: str, request: Request, rt: RuntimeDep, tasks: BackgroundTasks
) -> JSONResponse:
    """The Cloud API's send endpoint, as the sandbox phone number."""
    auth = request.headers.get("authorization", "")
    if not equal(auth, f"Bearer {rt.whatsapp_token}"):
        return JSONResponse(
            {
                "error": {
                    "message": "Invalid OAuth access token",
                    "type": "OAuthException",
                    "code": 190,
                }
            },
            status_code=401,
        )
    try:
        payload = await request.json()
    except ValueError:
        return JSONResponse({"error": {"message": "Invalid JSON", "code": 100}}, status_code=400)
    wamid = fake.new_wamid()
    code, answer = fake.accept_send(payload, rt.catalogue, wamid)
    if code == 200:
        phone = "+" + str(payload["to"])
        await run_in_threadpool(sandbox.store, rt, phone, "out", wamid, payload)
        for state in ("sent", "delivered"):
            body = fake.status_webhook(phone_number_id, wamid, phone, state, rt.clock())
            tasks.add_task(deliver_webhook, request, rt, body)
    return JSONResponse(answer, status_code=code)


@router.get("", response_class=HTMLResponse)
async def phone_page(request: Request, rt: RuntimeDep, phone: str = "") -> HTMLResponse:
    """All chats, and the selected one."""
    chats = await run_in_threadpool(sandbox.chats, rt)
    selected = phone or (chats[0]["phone"] if chats else "")
    context = await _chat_context(request, rt, selected)
    return templates.TemplateResponse(request, "sandbox.html", {"chats": chats, **context})


@router.get("/chat", response_class=HTMLResponse)
async def chat_fragment(request: Request, rt: RuntimeDep, phone: str) -> HTMLResponse:
    """Just the messages of one chat (the page polls this)."""
    context = await _chat_context(request, rt, phone)
    return templates.TemplateResponse(request, "sandbox_chat.html", context)


async def _chat_context(request: Request, rt: Runtime, phone: str) -> dict[str, Any]:
    if not phone:
        return {"phone": "", "messages": []}
    messages = await run_in_threadpool(sandbox.conversation, rt, phone)
    for wamid in await run_in_threadpool(sandbox.unread, rt, phone):
        body = fake.status_webhook(rt.settings.whatsapp_phone_number_id, wamid, phone, "read", rt.clock())
        await deliver_webhook(request, rt, body)
    return {"phone": phone, "messages": messages}


@router.post("/reply")
async def customer_reply(
    request: Request,
    rt: RuntimeDep,
    phone: Annotated[str, Form(max_length=20)],
    text: Annotated[str, Form(max_length=4096)] = "",
    button_text: Annotated[str, Form(max_length=100)] = "",
    button_payload: Annotated[str, Form(max_length=256)] = "",
    context_id: Annotated[str, Form(max_length=200)] = "",
    reply_kind: Annotated[Literal["", "list_reply", "button_reply"], Form()] = "",
) -> RedirectResponse:
    """The visitor writes or taps as the customer: it arrives as Meta's webhook would."""
    if not text.strip() and not button_payload:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "write something or tap a button")
    wamid = fake.new_wamid()
    # A template's quick reply arrives as a `button` message; a list row or reply button as `interactive`.
    button = (button_text, button_payload) if button_payload and not reply_kind else None
    choice = (reply_kind, button_payload, button_text) if button_payload and reply_kind else None
    body = fake.customer_message_webhook(
        rt.settings.whatsapp_phone_number_id, phone, "", rt.clock(), wamid, text, button, context_id, choice
    )
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    await run_in_threadpool(sandbox.store, rt, phone, "in", wamid, message)
    await deliver_webhook(request, rt, body)
    return RedirectResponse(f"/sandbox?phone={phone.replace('+', '%2B')}", status.HTTP_303_SEE_OTHER)


# --- Returns (returns helper): the visitor sends a photo; the service downloads it as from Meta. ---


def _unauthorised(request: Request, rt: Runtime) -> JSONResponse | None:
    if equal(request.headers.get("authorization", ""), f"Bearer {rt.whatsapp_token}"):
        return None
    error = {"message": "Invalid OAuth access token", "type": "OAuthException", "code": 190}
    return JSONResponse({"error": error}, status_code=401)


@router.post("/photo")
async def customer_photo(
    request: Request,
    rt: RuntimeDep,
    phone: Annotated[str, Form(max_length=20)],
    photo: Annotated[UploadFile, File()],
    text: Annotated[str, Form(max_length=1024)] = "",
) -> RedirectResponse:
    """The visitor sends a photo as the customer: kept here, announced as Meta's image webhook would."""
    mime = (photo.content_type or "").split(";")[0]
    if not mime.startswith("image/"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "send an image")
    data = await photo.read(rt.settings.media_max_bytes + 1)
    if not data or len(data) > rt.settings.media_max_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the photo is empty or too large")
    media_id = await run_in_threadpool(sandbox.keep_photo, rt, data, mime)
    wamid = fake.new_wamid()
    body = fake.customer_message_webhook(
        rt.settings.whatsapp_phone_number_id,
        phone,
        "",
        rt.clock(),
        wamid,
        text,
        media=("image", media_id, mime),
    )
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    await run_in_threadpool(sandbox.store, rt, phone, "in", wamid, message)
    await deliver_webhook(request, rt, body)
    return RedirectResponse(f"/sandbox?phone={phone.replace('+', '%2B')}", status.HTTP_303_SEE_OTHER)


@router.get("/graph/{version}/{media_id}")
async def graph_media(version: str, media_id: str, request: Request, rt: RuntimeDep) -> JSONResponse:
    """The Cloud API's "retrieve media URL" for a sandbox photo."""
    refused = _unauthorised(request, rt)
    if refused is not None:
        return refused
    found = await run_in_threadpool(sandbox.photo, rt, media_id)
    if found is None:
        return JSONResponse({"error": {"message": "Unsupported get request", "code": 100}}, status_code=400)
    data, mime = found
    return JSONResponse(
        {
            "messaging_product": "whatsapp",
            "url": f"{rt.settings.public_url.rstrip('/')}/sandbox/media/{media_id}",
            "mime_type": mime,
            "sha256": media_id.split(".")[0],
            "file_size": str(len(data)),
            "id": media_id,
        }
    )


@router.get("/media/{media_id}")
async def media_bytes(media_id: str, request: Request, rt: RuntimeDep) -> Response:
    """The photo's bytes, for the Bearer token only (as Meta's download URL)."""
    if _unauthorised(request, rt) is not None:
        return Response(status_code=404)
    found = await run_in_threadpool(sandbox.photo, rt, media_id)
    return Response(status_code=404) if found is None else Response(found[0], media_type=found[1])


@router.post("/skip-ahead")
async def skip_ahead(rt: RuntimeDep, phone: Annotated[str, Form(max_length=20)] = "") -> RedirectResponse:
    """Fire every waiting timer now (the follow-up is days away otherwise)."""
    await run_in_threadpool(sandbox.skip_ahead, rt)
    target = f"/sandbox?phone={phone.replace('+', '%2B')}" if phone else "/sandbox"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
