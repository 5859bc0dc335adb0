"""The skill's one typed configuration, built once by the entry point from the Lambda environment.

A bad value stops the cold start with one line naming the variable: a misdeployed function should
fail loudly in its logs rather than answer every user with an apology.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_SDM_API_BASE_URL = "https://smartdevicemanagement.googleapis.com/v1"


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class SkillConfig:
    nest_project_id: str
    sdm_api_base_url: str = DEFAULT_SDM_API_BASE_URL
    skill_id: str | None = None

    def __post_init__(self) -> None:
        if not self.nest_project_id or "/" in self.nest_project_id:
            raise ConfigError(f"NEST_PROJECT_ID = {self.nest_project_id!r}: expected the Device Access project ID")
        parts = urlsplit(self.sdm_api_base_url)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"SDM_API_BASE_URL = {self.sdm_api_base_url!r}: expected an http(s) URL")

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> SkillConfig:
        """Read NEST_PROJECT_ID, SDM_API_BASE_URL and SKILL_ID; blank values count as unset."""
        base_url = env.get("SDM_API_BASE_URL", "").strip().rstrip("/") or DEFAULT_SDM_API_BASE_URL
        return cls(
            nest_project_id=env.get("NEST_PROJECT_ID", "").strip(),
            sdm_api_base_url=base_url,
            skill_id=env.get("SKILL_ID", "").strip() or None,
        )
