"""Checks on an inbound Slack HTTP request before anything acts on it.

The signature is verified on the raw bytes first (401 when it is missing,
wrong or stale), and only a signed body is parsed (400 naming what is
malformed). Pure functions: the caller passes the wall-clock time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from bot.core.errors import InvalidInput
from bot.core.jsontext import TooLarge, decode_json
from bot.core.text_repair import decoded_without_lone_surrogates
from bot.platforms.slack.inbound import (
    MalformedPayload,
    action_parts,
    command_origin,
    command_parts,
    event_origin,
    interaction_origin,
    view_parts,
)

# Slack's replay window for a signed request.
MAX_AGE_SECONDS = 300


class Rejected(Exception):
    """The request is refused with ``status``; ``reason`` says why (safe to show)."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


def verify_signature(secret: str, body: bytes, headers: Mapping[str, str], now: float) -> None:
    """Raise 401 unless ``X-Slack-Signature`` signs ``body`` at a fresh timestamp."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        raise Rejected(401, "missing Slack signature headers")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise Rejected(401, "the Slack request timestamp is not a number")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        raise Rejected(401, "the Slack request timestamp is too old or in the future")
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("utf-8"), signature.encode("utf-8", "replace")):
        raise Rejected(401, "invalid Slack signature")


def parse_signed_body(body: bytes, content_type: str) -> dict[str, Any]:
    """The payload of a signed request, parsed the way Bolt will parse it.

    Raises 400 for bytes that are not UTF-8, JSON that does not parse, is not
    an object or nests too deeply (:mod:`bot.core.jsontext`), a form that does
    not parse, and payloads lacking a field the bot needs.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(400, f"the body is not valid UTF-8 (byte {error.start})") from error
    if not text:
        raise Rejected(400, "the body is empty")
    if content_type == "application/json" or text.startswith("{"):
        parsed = _json_object(text, "the JSON body")
    else:
        try:
            form = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        except ValueError as error:
            raise Rejected(400, "the form body is malformed") from error
        payload = form.get("payload") if "payload" in text else None
        parsed = form if payload is None else _json_object(payload, "the form field payload")
    try:
        check_fields(parsed)
    except MalformedPayload as error:
        raise Rejected(400, f"the Slack payload has no valid {error.field}") from error
    return parsed


def _json_object(text: str, what: str) -> dict[str, Any]:
    """Decoded with the limits every JSON door shares (:mod:`bot.core.jsontext`)."""
    try:
        value = decode_json(text)
    except InvalidInput as error:
        status = 413 if isinstance(error, TooLarge) else 400
        raise Rejected(status, f"{what} is {error.problem}") from error
    if not isinstance(value, dict):
        raise Rejected(400, f"{what} is not a JSON object")
    # Half an emoji in an escape: the inbox could not store the request.
    repaired: dict[str, Any] = decoded_without_lone_surrogates(text, value)
    return repaired


def check_fields(body: dict[str, Any]) -> None:
    """Raise :class:`MalformedPayload` when a payload the bot handles lacks a
    field it needs (the same extractors its handlers use later)."""
    kind = body.get("type")
    if "command" in body and kind is None:
        command_origin(body)
        command_parts(body)
    elif kind == "block_actions":
        interaction_origin(body)
        action_parts(body)
    elif kind == "view_submission":
        interaction_origin(body, view_parts(body).channel_id)
    elif kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict):
            raise MalformedPayload("event")
        if event.get("type") == "app_mention":
            event_origin(body)
