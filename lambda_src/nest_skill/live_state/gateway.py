"""The Alexa event gateway (developer.amazon.com/docs/smarthome/send-events.html): one event POSTed to
the gateway of the user's region with their LWA access token, the answer classified once.

202 is accepted. 401 INVALID_ACCESS_TOKEN_EXCEPTION: the access token is not (or no longer) valid,
refresh and retry once. 403 (SKILL_DISABLED_EXCEPTION, INSUFFICIENT_PERMISSION_EXCEPTION) and 404
(the user or skill unknown to Alexa): this user's grant is gone, stop sending for them. Anything
else (400, 413, 429, 5xx, no answer): this event is lost, the user's grant is not in doubt.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from nest_skill.live_state.http import BoundedHttp, NoAnswer
from nest_skill.sdm_client import Deadline


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    TOKEN_REJECTED = "token rejected"  # refresh, retry once
    GRANT_GONE = "grant gone"  # stop for this user, re-link needed
    FAILED = "failed"  # this event only


class Gateway:
    def __init__(self, http: BoundedHttp, urls: Mapping[str, str]):
        self._http = http
        self._urls = dict(urls)

    def send(self, region: str, access_token: str, event: dict[str, Any], deadline: Deadline) -> Sent:
        try:
            answer = self._http.post(
                f"event gateway {region}",
                self._urls[region],
                deadline,
                json_body=event,
                headers={"Authorization": f"Bearer {access_token}"},
            )
        except NoAnswer:
            return Sent(Outcome.FAILED, None, "")
        document = answer.document if isinstance(answer.document, dict) else {}
        payload = document.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        code = str(payload.get("code", ""))[:64]
        if answer.status in (200, 202):
            return Sent(Outcome.ACCEPTED, answer.status, "")
        if answer.status == 401:
            return Sent(Outcome.TOKEN_REJECTED, answer.status, code)
        if answer.status in (403, 404):
            return Sent(Outcome.GRANT_GONE, answer.status, code)
        return Sent(Outcome.FAILED, answer.status, code)


class Sent:
    def __init__(self, outcome: Outcome, status: Any, code: str):
        self.outcome = outcome
        self.status = status
        self.code = code
