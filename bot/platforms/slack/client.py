"""The Web API client the Slack platform uses, counting every call it makes."""

from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client import Counter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

PLATFORM = "slack"


def call_status(error: SlackApiError) -> str:
    """A failed call's status label: the HTTP status of a non-200 answer (429
    when rate limited), else Slack's error code."""
    response = error.response
    status = getattr(response, "status_code", None)
    if status and status != 200:
        return str(status)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return str(code or status or "error")


class MeteredWebClient(AsyncWebClient):
    """An ``AsyncWebClient`` that counts each call by method and outcome.

    Every Web API method of the SDK goes through ``api_call``, so this is the
    one place that sees them all: deliveries, replies, look-ups, Bolt's own.
    """

    def __init__(self, *, calls: Counter, **client_args: Any) -> None:
        super().__init__(**client_args)
        self._calls = calls

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        status = "unreachable"
        try:
            response = await super().api_call(api_method, **kwargs)
            status = "ok"
            return response
        except SlackApiError as error:
            status = call_status(error)
            raise
        except (aiohttp.ClientError, TimeoutError):
            status = "unreachable"
            raise
        finally:
            self._calls.labels(platform=PLATFORM, method=api_method, status=status).inc()
