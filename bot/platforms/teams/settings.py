"""Teams credentials and the adapter configuration built from them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.errors import ConfigError, Problem
from bot.platforms.teams.auth import OPENID_METADATA_URL

log = logging.getLogger("bot.platforms.teams.platform")


@dataclass(frozen=True)
class TeamsSettings:
    """Azure bot credentials (single-tenant), from the environment only."""

    app_id: str
    app_password: str = field(repr=False)
    tenant_id: str
    anonymous: bool = False
    # Where the inbound tokens' signing keys are published (tests point it at a fake).
    openid_metadata_url: str = OPENID_METADATA_URL
    # Where outbound access tokens come from (default: Azure AD for the tenant).
    token_url: str | None = None

    @staticmethod
    def from_env(env: Mapping[str, str]) -> TeamsSettings | None:
        """None when Teams is not configured (it is then not mounted).

        Anonymous mode (no inbound token checks, no outbound tokens) is only
        for local development and must be asked for explicitly.
        """
        app_id = env.get("MICROSOFT_APP_ID", "").strip()
        anonymous = env.get("PLAYCALLER_TEAMS_ANONYMOUS", "").strip() == "1"
        if not app_id:
            if anonymous:
                log.warning(
                    "Teams runs ANONYMOUSLY: no request is authenticated (development only)"
                )
                return TeamsSettings("", "", "", anonymous=True)
            return None
        password = env.get("MICROSOFT_APP_PASSWORD", "").strip()
        tenant = env.get("MICROSOFT_APP_TENANT_ID", "").strip()
        missing = [
            name
            for name, value in (
                ("MICROSOFT_APP_PASSWORD", password),
                ("MICROSOFT_APP_TENANT_ID", tenant),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                [
                    Problem(name, None, "needed with MICROSOFT_APP_ID (single-tenant bot)")
                    for name in missing
                ]
            )
        return TeamsSettings(app_id, password, tenant)


class AdapterConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, teams: TeamsSettings) -> None:
        self.APP_ID = teams.app_id
        self.APP_PASSWORD = teams.app_password
        self.APP_TYPE = "SingleTenant" if teams.app_id else "MultiTenant"
        self.APP_TENANTID = teams.tenant_id
