"""Socket Mode for the fake Slack."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.slack_api.state import SlackState


class SocketMode(SlackState):
    """The Socket Mode side: a WebSocket at ``/socket``, envelopes out, acks in."""

    # ------------------------------------------------------------------ socket mode

    async def wait_connected(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until a Socket Mode client is connected (and has been sent hello)."""
        if self._connected is None:
            raise RuntimeError("FakeSlack not started")
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_disconnected(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until no Socket Mode client is connected."""
        if self._idle is None:
            raise RuntimeError("FakeSlack not started")
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Send an envelope to the most recently connected Socket Mode client."""
        ws = self._current_socket()
        if "envelope_id" in envelope:
            self._ack_future(str(envelope["envelope_id"]))
        self.sent_envelopes.append(envelope)
        frame = json.dumps(envelope)
        self.sent_frames.append(frame)
        await ws.send_str(frame)

    async def wait_ack(self, envelope_id: str, timeout: float = 5) -> dict[str, Any]:  # noqa: ASYNC109
        """The client's ack ``{"envelope_id": ..., "payload"?: ...}`` for an envelope."""
        future = self._ack_future(envelope_id)
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    async def send_disconnect(self, reason: str = "warning") -> None:
        """Send Slack's ``disconnect`` message (e.g. "refresh_requested")."""
        ws = self._current_socket()
        await ws.send_json(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": "fake"},
                "connection_info": {"app_id": self.app_id},
            }
        )

    @property
    def socket_count(self) -> int:
        return len(self._sockets)

    def _current_socket(self) -> web.WebSocketResponse:
        for ws in reversed(self._sockets):
            if not ws.closed:
                return ws
        raise RuntimeError("no Socket Mode client is connected")

    def _ack_future(self, envelope_id: str) -> asyncio.Future[dict[str, Any]]:
        future = self._ack_futures.get(envelope_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._ack_futures[envelope_id] = future
        return future

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        if self._closing:
            return web.Response(status=503, text="closing")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.socket_connects += 1
        assert self._idle is not None
        self._idle.clear()
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "fake", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.app_id},
                }
            )
            assert self._connected is not None
            self._connected.set()
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    self.socket_received.append(msg.data)
                    continue
                self.socket_received.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks.append(data)
                    future = self._ack_future(str(data["envelope_id"]))
                    if not future.done():
                        future.set_result(data)
        finally:
            self._sockets.remove(ws)
            if not self._sockets and self._connected is not None and self._idle is not None:
                self._connected.clear()
                self._idle.set()
        return ws
