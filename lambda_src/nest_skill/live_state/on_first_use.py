"""The skill container's live state, built at the first request that needs it.

The container's import reads and checks live state's settings (config.LiveStateConfig: a wrong
setting still fails the cold start, not a user's request) but loads none of its parts: the
reporter, LWA, the token store, the gateway and their HTTP client load at the first request that
uses live state (an AcceptGrant, a Discover, a change to report), and boto3 later still, when AWS
is first needed. A container that only answers custom-skill reads never loads them. Lambda gives a
container one request at a time, so the build needs no lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nest_skill.live_state.config import LiveStateConfig
from nest_skill.sdm_client import Deadline, SdmClient

if TYPE_CHECKING:
    from nest_skill.controls import Change
    from nest_skill.live_state.reporter import LiveState, ReportResult


class LiveStateOnFirstUse:
    """reporter.LiveState (AcceptGrant, ChangeReports, ...), built at the first use of any of its
    attributes. A change's calls to Alexa add at most reporter.REPORT_BUDGET_S to the answer, and
    its DynamoDB and KMS calls end by the request's deadline."""

    def __init__(self, config: LiveStateConfig, sdm: SdmClient) -> None:
        self.config = config
        self._sdm = sdm
        self._live_state: LiveState | None = None

    @classmethod
    def from_mapping(cls, env: Mapping[str, str], sdm: SdmClient) -> LiveStateOnFirstUse | None:
        """None when live state is off; ConfigError (config.LiveStateConfig) for a missing or unusable setting."""
        config = LiveStateConfig.from_mapping(env)
        return None if config is None else cls(config, sdm)

    @property
    def loaded(self) -> bool:
        """Whether the LiveState (and so the reporter's modules) has been built in this container."""
        return self._live_state is not None

    def live_state(self) -> LiveState:
        if self._live_state is None:
            from nest_skill.live_state.reporter import LiveState

            self._live_state = LiveState(self.config, self._sdm)
        return self._live_state

    def __getattr__(self, name: str) -> Any:
        """Every other attribute is the LiveState's (AcceptGrant, a Discover's listing, ...): built first."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.live_state(), name)

    def report_change(self, change: Change, deadline: Deadline) -> ReportResult:
        """reporter.LiveState.report_change (cause VOICE_INTERACTION): its calls to Alexa within
        `deadline` and at most REPORT_BUDGET_S, its DynamoDB and KMS calls each started only while it
        can end by `deadline` (one takes up to store.AWS_CALL_MAX_S, more than REPORT_BUDGET_S)."""
        from nest_skill.live_state.reporter import REPORT_BUDGET_S
        from nest_skill.live_state.store import aws_calls_by

        live_state = self.live_state()
        with aws_calls_by(deadline):
            return live_state.report_change(change, Deadline(min(deadline.remaining(), REPORT_BUDGET_S)))
