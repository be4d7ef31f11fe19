"""Bot Connector calls, counted in one place: every Connector client botbuilder
creates for this bot (replies in a turn, proactive posts, updates, new
conversations, roster look-ups) comes from the factory made here."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import (
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
)
from prometheus_client import Counter

from bot.platforms.teams.delivery import http_status

PLATFORM = "teams"


def call_status(failure: BaseException | None) -> str:
    """A call's status label: ok, the HTTP status of a failure (429 when
    throttled), unreachable, or error."""
    if failure is None:
        return "ok"
    status, _, _ = http_status(failure)
    if status is not None:
        return str(status)
    if isinstance(failure, aiohttp.ClientError | TimeoutError | ConnectionError):
        return "unreachable"
    return "error"


class _MeteredOperations:
    """A Connector operations group whose every call is counted by name."""

    def __init__(self, operations: Any, calls: Counter) -> None:
        self._operations = operations
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._operations, name)
        if not inspect.iscoroutinefunction(target):
            return target
        return self._metered(name, target)

    def _metered(
        self, name: str, target: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            failure: BaseException | None = None
            try:
                return await target(*args, **kwargs)
            except BaseException as error:
                failure = error
                raise
            finally:
                if not isinstance(failure, asyncio.CancelledError):
                    self._calls.labels(
                        platform=PLATFORM, method=name, status=call_status(failure)
                    ).inc()

        return call


class _MeteredFactory(ConnectorFactory):  # type: ignore[misc]
    def __init__(self, factory: ConnectorFactory, calls: Counter) -> None:
        self._factory = factory
        self._calls = calls

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        client = await self._factory.create(service_url, audience)
        client.conversations = _MeteredOperations(client.conversations, self._calls)
        return client


class MeteredAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's authentication, handing out Connector clients that count their calls."""

    def __init__(
        self,
        configuration: object,
        *,
        calls: Counter,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
    ) -> None:
        super().__init__(configuration, credentials_factory=credentials_factory)
        self._calls = calls

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """For proactive turns and new conversations."""
        return _MeteredFactory(super().create_connector_factory(claims_identity), self._calls)

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        """For turns on inbound activities (their factory is made while authenticating)."""
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _MeteredFactory(result.connector_factory, self._calls)
        return result
