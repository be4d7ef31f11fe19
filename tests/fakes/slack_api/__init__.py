"""A local fake of Slack's Web API and Socket Mode endpoint, for tests.

``FakeSlack`` is an aiohttp server on 127.0.0.1 (random port). It speaks the
protocol the real slack_sdk clients speak, so production code runs against it
unchanged:

* ``AsyncWebClient(token="xoxb-test-token", base_url=fake.api_url)`` calls
  ``/api/<method>``. slack_sdk sends JSON bodies (chat.*, views.*), form bodies
  and query strings (GET for conversations.history, users.info, ...). All three
  are accepted, recorded in ``fake.calls`` and answered with Slack's payload
  shapes and error codes.
* ``slack_sdk.socket_mode.aiohttp.SocketModeClient`` asks ``apps.connections.open``
  (with the ``xapp-`` token) for a WebSocket URL and connects to ``/socket``;
  the test pushes envelopes with ``send_envelope`` and awaits acks with
  ``wait_ack``.
* Message responses posted to URLs minted by ``response_url()`` are recorded as
  calls to the pseudo-method ``"response_url"``.

Message timestamps: a message's ``ts`` is the time it was posted, as on
Slack, kept unique and increasing: wall-clock time, or ``clock()`` (Unix
seconds) when given, e.g. the test's ManualClock, so the bot's time-window
look-ups and the fake agree. ``conversations.history`` (newest first) and
``conversations.replies`` (the parent, then replies oldest first) honour
``oldest``/``latest``/``inclusive``/``limit`` and page with an opaque
``response_metadata.next_cursor`` (Slack's own encoding, ``next_ts:<ts>`` in
base64); replies leave the parent off continuation pages, as Slack does.

Fault injection: ``rate_limit`` (HTTP 429 + Retry-After), ``delay`` (slow
answers) and ``fail_connection`` (the request is processed, then the
connection is dropped without an answer, so the client cannot tell whether a
message landed).

Close Socket Mode clients *before* ``await fake.close()``: a live
``SocketModeClient`` treats a server-side close as a reason to reconnect.
"""

from tests.fakes.slack_api.common import Call, SlackError
from tests.fakes.slack_api.server import FakeSlack

__all__ = ["Call", "FakeSlack", "SlackError"]
