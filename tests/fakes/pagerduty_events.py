"""A local PagerDuty Events API v2 endpoint (``POST /v2/enqueue``) for tests.

It checks events the way PagerDuty documents them and keeps alerts the way
PagerDuty does:

* a body that is not a JSON object, an unknown ``routing_key``, an unknown
  ``event_action``, a ``dedup_key`` over 255 characters, or a trigger without
  ``payload.summary`` / ``payload.source`` / a valid ``payload.severity``
  gets 400 ``{"status": "invalid event", "message": "Event object is
  invalid", "errors": [...]}``;
* a valid event gets 202 ``{"status": "success", "message": "Event
  processed", "dedup_key": ...}``;
* alerts are kept by ``dedup_key``: a trigger for an open alert adds to it
  (no new alert), acknowledge and resolve change the open alert's state (and
  are dropped when none is open), a trigger after resolve opens a new alert.

Faults, consumed one request at a time before processing (the event is then
not applied): ``rate_limit_next(n)`` answers 429, ``fail_next(n, status)``
answers 500 (or ``status``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


@dataclass
class Alert:
    dedup_key: str
    summary: str
    severity: str
    status: str = "triggered"  # triggered, acknowledged, resolved
    triggers: int = 1
    log: list[str] = field(default_factory=lambda: ["trigger"])


@dataclass
class FakePagerDuty:
    routing_key: str
    events: list[dict[str, Any]] = field(default_factory=list)  # every accepted event
    statuses: list[int] = field(default_factory=list)  # every answer, in order
    alerts: list[Alert] = field(default_factory=list)  # every alert ever opened
    _faults: list[int] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v2/enqueue", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakePagerDuty not started")
        return f"http://127.0.0.1:{self._port}/v2/enqueue"

    def rate_limit_next(self, times: int = 1) -> None:
        self._faults += [429] * times

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        self._faults += [status] * times

    def open_alert(self, dedup_key: str) -> Alert | None:
        return next(
            (a for a in self.alerts if a.dedup_key == dedup_key and a.status != "resolved"), None
        )

    async def _handle(self, request: web.Request) -> web.Response:
        if self._faults:
            status = self._faults.pop(0)
            self.statuses.append(status)
            if status == 429:
                return web.json_response(
                    {
                        "status": "throttle event",
                        "message": "Requests for this service are arriving too quickly",
                    },
                    status=429,
                )
            return web.Response(status=status, text="Internal Server Error")
        try:
            event = json.loads(await request.read())
        except ValueError:
            event = None
        errors = self._problems(event)
        if errors:
            self.statuses.append(400)
            return web.json_response(
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
                status=400,
            )
        assert isinstance(event, dict)
        self.events.append(event)
        self._apply(event)
        self.statuses.append(202)
        return web.json_response(
            {"status": "success", "message": "Event processed", "dedup_key": event["dedup_key"]},
            status=202,
        )

    def _problems(self, event: Any) -> list[str]:
        if not isinstance(event, dict):
            return ["Event object must be a JSON object"]
        errors = []
        if event.get("routing_key") != self.routing_key:
            errors.append("'routing_key' is invalid")
        if event.get("event_action") not in ACTIONS:
            errors.append("'event_action' is missing or blank")
        key = event.get("dedup_key")
        if not isinstance(key, str) or not key:
            errors.append("'dedup_key' is required for this integration")
        elif len(key) > 255:
            errors.append("'dedup_key' is too long (maximum is 255 characters)")
        if event.get("event_action") == "trigger":
            payload = event.get("payload")
            if not isinstance(payload, dict):
                errors.append("'payload' is missing or blank")
            else:
                summary = payload.get("summary")
                if not isinstance(summary, str) or not summary.strip():
                    errors.append("'payload.summary' is missing or blank")
                elif len(summary) > 1024:
                    errors.append("'payload.summary' is too long (maximum is 1024 characters)")
                if not payload.get("source"):
                    errors.append("'payload.source' is missing or blank")
                if payload.get("severity") not in SEVERITIES:
                    errors.append(
                        "'payload.severity' is invalid (must be critical, error, warning or info)"
                    )
        return errors

    def _apply(self, event: dict[str, Any]) -> None:
        key = event["dedup_key"]
        action = event["event_action"]
        alert = self.open_alert(key)
        if action == "trigger":
            if alert is None:
                payload = event["payload"]
                self.alerts.append(Alert(key, payload["summary"], payload["severity"]))
            else:
                alert.triggers += 1
                alert.log.append("trigger")
            return
        if alert is None:
            return  # PagerDuty drops acknowledge/resolve for an alert that is not open
        alert.log.append(action)
        alert.status = "acknowledged" if action == "acknowledge" else "resolved"
