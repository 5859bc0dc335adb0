"""`make demo`: the whole system deployed and exercised on this machine, with no cloud account.

1. the local AWS (moto, sandbox/aws_emulator.py) on 127.0.0.1, `cdk bootstrap` and `cdk deploy --all`
   of the project's real templates against it;
2. the client credentials stored in the deployed bucket by the operator CLI (`python -m ops`);
3. a fake Google (sandbox/fake_google.py): Partner Connections, token endpoint and the SDM API;
4. the bridge's WSGI app under gunicorn (its Procfile), configured with the environment of the
   deployed bridge function read back from the emulator;
5. a scripted Alexa conversation through lambda_src's real `lambda_handler`, configured with the
   environment of the deployed skill function read back from the emulator: linking through the
   bridge (implicit grant, carrying its flow cookie as a browser does, and a failed token exchange
   returning the user to Alexa with an error), status, setting each thermostat, failures, and the auth-code grant as
   Alexa performs it with the rendered account-linking request;
6. a scripted smart-home session (Alexa Smart Home API v3 directives) through the same handler,
   answered by the skill function deployed in the second Alexa region (NestSkill-eu-west-1), with
   the manifest's apis.smartHome rendered from the deployed regions;
7. live state (deployed on): the skill's messaging credentials stored as the deploy stores them,
   AcceptGrant at the eu-west-1 function exchanging its code with a Login-with-Amazon stand-in and
   storing the user's tokens sealed in the home region's table (read back from the emulator's
   DynamoDB), and a voice change reported to the EU event-gateway stand-in (sandbox/fake_amazon.py,
   in this process).

It prints a transcript and one summary line, exits non-zero if any step deviates, binds 127.0.0.1
only, and stops every process it started (by PID) on success, failure or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3

from ops import BUILD_DIR, REPO_ROOT
from ops.ask_project import render_account_linking, smart_home_api
from ops.messaging import MessagingCredentials, messaging_location, store_messaging_credentials
from ops.outputs import Outputs, load_outputs
from sandbox import alexa, fake_amazon, fake_pubsub
from sandbox.browser import BrowserSession
from sandbox.entry_points import load_module
from sandbox.fake_google import TricklingFront
from sandbox.processes import LOOPBACK, Service, bridge_procfile_argv, free_port
from sandbox.serving import in_background, running
from stacks.config import (
    BRIDGE_STACK,
    SDM_SCOPE,
    SETTINGS_ENV,
    SETTINGS_FILE_NAME,
    SKILL_STACK,
    AppConfig,
    regional_skill_stack,
)

WORKDIR = BUILD_DIR / "demo"
ACCOUNT = "123456789012"
REGION = "us-east-1"
# en-GB's Alexa region: the demo's second region, where NestSkill-eu-west-1 serves smart-home directives.
SECOND_REGION = "eu-west-1"
DEMO_LOCALES = "en-US,en-GB"
PROJECT_ID = "5a1f0c3e-7b2d-4e8f-9a6b-1c2d3e4f5a6b"
CLIENT_ID = "123456789012-nestdemo.apps.googleusercontent.com"
VENDOR_ID = "DEMOVENDOR01"
# The skill's Alexa Skill Messaging client in the Login-with-Amazon stand-in (SMAPI gives the real one).
MESSAGING_CLIENT_ID = "amzn1.application-oa2-client.demo0000000000000000000000000001"
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}
HTTP_TIMEOUT = 10


class Deviation(AssertionError):
    """A step did not do what the real system would."""


@dataclass
class Transcript:
    checks: int = 0
    deviations: list[str] = field(default_factory=list)
    stopped: str = ""

    def phase(self, title: str) -> None:
        print(f"\n== {title}")

    def note(self, text: str) -> None:
        print(f"   {text}")

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.checks += 1
        if not ok:
            self.deviations.append(f"{what}{': ' + detail if detail else ''}")
        print(f"   {'ok ' if ok else 'DEVIATION'} {what}{'' if ok or not detail else ' (' + detail + ')'}")


@dataclass
class Rehearsal:
    """What the rehearsal deployed and started."""

    aws_env: dict[str, str]
    google_url: str
    bridge_url: str
    outputs: Outputs
    config: AppConfig
    client_secret: str  # the fake Google client's; Alexa holds it in auth-code mode, the operator cannot read it back
    amazon: fake_amazon.AmazonStandIns | None = None  # LWA, the event gateways and tokeninfo (live state)


# Set by main(): the owner's own nest-skill.json never reaches `make demo`, whose settings file is its own
# (none). Tests that rehearse a deploy in a checkout of their own use that checkout's file.
DEMO_SETTINGS: dict[str, str] = {}


def child_env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(
        [str(REPO_ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    )
    return {
        "PATH": path,
        "HOME": os.environ.get("HOME", str(WORKDIR)),
        "PYTHONPATH": str(REPO_ROOT),
        "LANG": "C.UTF-8",
        **DEMO_SETTINGS,
        **extra,
    }


def run_logged(argv: list[str], env: dict[str, str], log: Path, what: str) -> None:
    with open(log, "ab") as out:
        started = time.monotonic()
        result = subprocess.run(
            argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise Deviation(f"{what} failed (exit {result.returncode}); last lines of {log}:\n{tail}")
    print(f"   {what}: done in {time.monotonic() - started:.1f} s")


def context_args(context: dict[str, str]) -> list[str]:
    return [arg for key, value in context.items() for arg in ("-c", f"{key}={value}")]


def emulator_client(service: str, aws_env: dict[str, str], region: str = REGION):
    """A boto3 client for the local AWS emulator in `region`, with its test credentials."""
    return boto3.client(
        service,
        endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def deploy(transcript: Transcript, aws_env: dict[str, str], context: dict[str, str], emulator_log: Path) -> Outputs:
    transcript.phase("1. Deploy the CDK app to the local AWS emulator (moto on 127.0.0.1)")
    env = child_env(**aws_env)
    log = WORKDIR / "cdk.log"
    log.write_text("")
    run_logged(
        ["cdk", "bootstrap", f"aws://{ACCOUNT}/{REGION}", f"aws://{ACCOUNT}/{SECOND_REGION}", "--no-notices"],
        env,
        log,
        f"cdk bootstrap ({REGION}, {SECOND_REGION})",
    )
    outputs_file = WORKDIR / "cdk-outputs.json"
    run_logged(
        [
            "cdk",
            "deploy",
            "--all",
            "--method=direct",
            "--require-approval",
            "never",
            "--no-notices",
            "--output",
            str(WORKDIR / "cdk.out"),
            "--outputs-file",
            str(outputs_file),
            *context_args(context),
        ],
        env,
        log,
        f"cdk deploy --all (NestSkillSecrets, NestSkill, NestSkillBridge; "
        f"{regional_skill_stack(SECOND_REGION)} for en-GB)",
    )
    outputs = load_outputs(outputs_file)
    skipped = sorted(set(re.findall(r"Tried to parse (\S+) but it's not supported", emulator_log.read_text())))
    transcript.note("emulator skipped (not deployed): " + (", ".join(skipped) or "nothing"))
    transcript.note(
        "emulated by sandbox/moto_extensions.py: AWS::Lambda::Url (its URL is not served; "
        "the bridge runs under gunicorn below), UpdateTerminationProtection"
    )
    transcript.note(
        "not in this configuration: AWS::ApiGatewayV2::* (none used), AWS::ElasticBeanstalk::* "
        "(bridge_hosting=beanstalk; moto skips them too)"
    )
    transcript.check(
        "stack outputs a deploy script reads are present",
        all(
            outputs.get(name)
            for name in (
                "SkillFunctionArn",
                "SecretsBucketName",
                "SecretsObjectKey",
                "SecretsKeyArn",
                "BridgeAuthorizeUrl",
                "OAuthRedirectUrls",
            )
        ),
    )
    return outputs


def deployed_environment(
    stack_name: str, aws_env: dict[str, str], region: str = REGION, handler: str = "lambda_function.lambda_handler"
) -> dict[str, str]:
    """The environment variables of the stack's Lambda function with `handler` (the home skill stack
    holds the events function too), as the emulator holds them."""
    resources = emulator_client("cloudformation", aws_env, region).describe_stack_resources(StackName=stack_name)[
        "StackResources"
    ]
    lambda_client = emulator_client("lambda", aws_env, region)
    for resource in resources:
        if resource["ResourceType"] == "AWS::Lambda::Function":
            configuration = lambda_client.get_function_configuration(FunctionName=resource["PhysicalResourceId"])
            if configuration["Handler"] == handler:
                return configuration["Environment"]["Variables"]
    raise Deviation(f"{stack_name} has no function with handler {handler}")


def store_credentials(transcript: Transcript, aws_env: dict[str, str], client_secret: str, context: dict) -> None:
    transcript.phase("2. Store the OAuth client credentials with the operator CLI")
    outputs_arg = ["--outputs", str(WORKDIR / "cdk-outputs.json")]
    env = child_env(**aws_env, NEST_CLIENT_ID=CLIENT_ID, NEST_CLIENT_SECRET=client_secret)
    for action in ("store", "show"):
        result = subprocess.run(
            [sys.executable, "-m", "ops", "credentials", action, *outputs_arg, *context_args(context)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        transcript.note(f"$ python -m ops credentials {action}")
        for line in (result.stdout + result.stderr).strip().splitlines():
            transcript.note("  " + line)
        transcript.check(f"credentials {action} succeeded", result.returncode == 0)
        transcript.check(f"credentials {action} did not print the secret", client_secret not in result.stdout)


class Conversation:
    """Alexa's side: envelopes into the real skill handler, and the account-linking browser flows."""

    def __init__(self, transcript: Transcript, rehearsal: Rehearsal) -> None:
        self.transcript = transcript
        self.rehearsal = rehearsal
        self.handler = load_module("lambda_src/lambda_function.py", "demo_skill_lambda_function").lambda_handler
        self.http = BrowserSession()
        self.token: str | None = None
        self.containers = 0

    def say(
        self,
        utterance: str,
        event: dict,
        expect: Callable[[dict], list[tuple[str, bool]]],
        handler: Callable[[dict, object], dict] | None = None,
    ) -> dict:
        """One turn: `event` is the envelope Alexa sends for `utterance` (built with sandbox.alexa)."""
        print(f"\n   USER   {utterance}")
        reply = (handler or self.handler)(event, None)
        try:
            response = alexa.valid_response(reply)
        except AssertionError as error:
            self.transcript.check("a valid Alexa response", False, str(error))
            return reply
        print(f"   ALEXA  {alexa.spoken(reply)}")
        card = response.get("card")
        if card:
            print(
                f"   CARD   {card['type']}"
                + (
                    f": {card['title']} / {card['content']}"
                    if card["type"] == "Simple"
                    else " (opens account linking in the Alexa app)"
                )
            )
        for what, ok in expect(reply):
            self.transcript.check(what, ok)
        return reply

    def fake_google(self, path: str, what: str, fresh_container: bool = True, **changes: Any) -> None:
        """Set up a situation in the fake Google through its own routes (POST /__fake/...). A new home
        or outage is met by a fresh skill container: a warm one would rightly use its cached list."""
        answer = self.http.post(f"{self.rehearsal.google_url}/__fake/{path}", json=changes, timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        self.transcript.note(what)
        if fresh_container:
            self.handler = self.skill_behind(os.environ["SDM_API_BASE_URL"])

    def skill_behind(self, base_url: str) -> Callable[[dict, object], dict]:
        """Another cold container of the skill, whose SDM base URL is `base_url`."""
        previous = os.environ["SDM_API_BASE_URL"]
        os.environ["SDM_API_BASE_URL"] = base_url
        self.containers += 1
        try:
            return load_module(
                "lambda_src/lambda_function.py", f"demo_skill_lambda_function_{self.containers}"
            ).lambda_handler
        finally:
            os.environ["SDM_API_BASE_URL"] = previous

    def device(self, device_id: str) -> dict:
        """The thermostat as SDM reports it now (a read with the linked token, as any SDM client would)."""
        url = f"{self.rehearsal.google_url}/v1/enterprises/{PROJECT_ID}/devices/{device_id}"
        answer = self.http.get(url, headers={"Authorization": f"Bearer {self.token}"}, timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        return answer.json()["traits"]

    def link_through_bridge(self) -> str:
        """Implicit grant: the Alexa app's browser opens the bridge's /authorize (which sets the flow cookie);
        Google approves; the bridge checks the cookie, exchanges the code with the secret from the encrypted
        bucket and redirects to Alexa. Then the same with Google's token endpoint failing: the user goes
        back to Alexa with an error, never left on a bridge page."""
        self.transcript.phase("5. Account linking, implicit grant through the bridge")
        outputs = Outputs(
            {**self.rehearsal.outputs, "BridgeAuthorizeUrl": f"{self.rehearsal.bridge_url}/authorize"},
            self.rehearsal.outputs.source,
        )
        request = render_account_linking(replace(self.rehearsal.config, account_linking="implicit"), outputs, None)
        linking = request["accountLinkingRequest"]
        self.transcript.note(
            f"rendered account-linking request: type {linking['type']}, authorizationUrl "
            f"{linking['authorizationUrl']} (the deployed function URL is not served by the "
            f"emulator, so the demo points it at the bridge under gunicorn)"
        )
        state = secrets.token_urlsafe(16)
        alexa_redirect = f"https://pitangui.amazon.com/api/skill/link/{VENDOR_ID}"
        location, fragment = self._bridge_linking(linking, state, alexa_redirect)
        self.transcript.check(
            "bridge redirects to Alexa's redirect URL with Alexa's state and a bearer token",
            location.startswith(alexa_redirect + "#")
            and fragment.get("state") == state
            and bool(fragment.get("access_token"))
            and fragment.get("token_type") == "Bearer"
            and fragment.get("expires_in", "").isdigit(),
        )
        if not fragment.get("access_token"):
            raise Deviation("no access token from the bridge: the conversation cannot go on")

        self.transcript.note("Google's token endpoint now answers 503 (the fake's token misbehaviour 'unavailable')")
        misbehave = f"{self.rehearsal.google_url}/__fake/token-misbehaviour"
        self.http.post(misbehave, params={"mode": "unavailable"}, timeout=HTTP_TIMEOUT).raise_for_status()
        try:
            failed_state = secrets.token_urlsafe(16)
            location, failed = self._bridge_linking(linking, failed_state, alexa_redirect)
        finally:
            self.http.post(misbehave, params={"mode": ""}, timeout=HTTP_TIMEOUT).raise_for_status()
        self.transcript.check(
            "a failed exchange goes back to Alexa with #error=temporarily_unavailable&state=…, "
            "no token (Alexa shows its own 'try again')",
            location.startswith(alexa_redirect + "#")
            and failed == {"error": "temporarily_unavailable", "state": failed_state},
        )
        pages = [
            self.http.get(f"{self.rehearsal.bridge_url}/{name}", timeout=HTTP_TIMEOUT) for name in ("privacy", "terms")
        ]
        self.transcript.check(
            "the bridge serves the skill's privacy policy and terms of use (/privacy, /terms)",
            all(
                page.status_code == 200
                and "text/html" in page.headers.get("Content-Type", "")
                and "Home Thermostat" in page.text
                for page in pages
            ),
        )
        return fragment["access_token"]

    def _bridge_linking(self, linking: dict, state: str, alexa_redirect: str) -> tuple[str, dict[str, str]]:
        """/authorize -> Google -> /callback in one browser (cookies kept); Alexa's URL and its fragment."""
        query = urlencode(
            {
                "client_id": linking["clientId"],
                "response_type": "token",
                "state": state,
                "redirect_uri": alexa_redirect,
                "scope": " ".join(linking["scopes"]),
            }
        )
        hop = self.http.get(f"{linking['authorizationUrl']}?{query}", allow_redirects=False, timeout=HTTP_TIMEOUT)
        cookie = hop.headers.get("Set-Cookie", "")
        self.transcript.check(
            "bridge /authorize redirects to Google's Partner Connections page and sets the "
            "flow cookie (Secure, HttpOnly, SameSite=Lax)",
            hop.status_code == 302
            and "/partnerconnections/" in hop.headers.get("Location", "")
            and all(part in cookie for part in ("__Host-linking=", "Secure", "HttpOnly", "SameSite=Lax")),
        )
        hop = self.http.get(hop.headers["Location"], allow_redirects=False, timeout=HTTP_TIMEOUT)
        callback = hop.headers.get("Location", "")
        self.transcript.check(
            "Google approves and returns to the bridge's /callback with a code",
            hop.status_code == 302
            and callback.startswith(f"{self.rehearsal.bridge_url}/callback?")
            and "code=" in callback,
        )
        hop = self.http.get(callback, allow_redirects=False, timeout=HTTP_TIMEOUT)
        location = hop.headers.get("Location", "")
        fragment = dict(parse_qsl(urlsplit(location).fragment))
        shown = "&".join(f"{name}={value if name == 'error' else '…'}" for name, value in fragment.items())
        self.transcript.note(
            f"bridge /callback (with the browser's flow cookie) -> {hop.status_code} to "
            f"{location.split('#')[0]}#{shown}"
        )
        self.transcript.check(
            "bridge /callback clears the flow cookie",
            "__Host-linking=;" in hop.headers.get("Set-Cookie", "") and "__Host-linking" not in self.http.cookies,
        )
        return location, fragment

    def link_with_auth_code(self) -> str:
        """Auth-code grant as Alexa performs it with the rendered request: sign-in at Google, then
        the access token URL called with the client credentials in the request body."""
        self.transcript.phase("8. Account linking, auth-code grant as Alexa performs it (credentials in the body)")
        request = render_account_linking(
            replace(self.rehearsal.config, account_linking="auth_code"),
            self.rehearsal.outputs,
            self.rehearsal.client_secret,
        )["accountLinkingRequest"]
        self.transcript.check(
            "rendered request: AUTH_CODE with REQUEST_BODY_CREDENTIALS and the SDM scope",
            request["type"] == "AUTH_CODE"
            and request["accessTokenScheme"] == "REQUEST_BODY_CREDENTIALS"
            and request["scopes"] == [SDM_SCOPE]
            and request["skipOnEnablement"] is False,
        )
        alexa_redirect = f"https://layla.amazon.com/api/skill/link/{VENDOR_ID}"
        state, hop, returned, form, tokens = self._auth_code_grant(request, alexa_redirect)
        self.transcript.check(
            "Google redirects to Alexa's redirect URL with a code and Alexa's state",
            hop.status_code == 302
            and hop.headers["Location"].startswith(alexa_redirect + "?")
            and returned.get("state") == state
            and bool(returned.get("code")),
        )
        body = tokens.json()
        self.transcript.check(
            "access token URL answers with access and refresh tokens",
            tokens.status_code == 200 and bool(body.get("access_token")) and bool(body.get("refresh_token")),
        )
        refreshed = self.http.post(
            request["accessTokenUrl"],
            timeout=HTTP_TIMEOUT,
            data={
                "grant_type": "refresh_token",
                "refresh_token": body.get("refresh_token", ""),
                "client_id": request["clientId"],
                "client_secret": request["clientSecret"],
            },
        )
        self.transcript.check(
            "Alexa's refresh (refresh_token grant, body credentials) gets a new access token",
            refreshed.status_code == 200 and bool(refreshed.json().get("access_token")),
        )
        wrong = self.http.post(request["accessTokenUrl"], timeout=HTTP_TIMEOUT, data={**form, "client_secret": "wrong"})
        self.transcript.check(
            "a wrong client secret is refused (invalid_client)",
            wrong.status_code == 401 and wrong.json().get("error") == "invalid_client",
        )
        return refreshed.json().get("access_token") or body.get("access_token", "")

    def link_another_alexa_account(self) -> str:
        """Another Alexa account links the same Google account (a new auth-code grant at the fake
        Google, as Alexa performs it); returns that grant's access token."""
        request = render_account_linking(
            replace(self.rehearsal.config, account_linking="auth_code"),
            self.rehearsal.outputs,
            self.rehearsal.client_secret,
        )["accountLinkingRequest"]
        *_, tokens = self._auth_code_grant(request, f"https://pitangui.amazon.com/api/skill/link/{VENDOR_ID}")
        if tokens.status_code != 200:
            raise Deviation(f"the second Alexa account's linking: HTTP {tokens.status_code}")
        return str(tokens.json()["access_token"])

    def _auth_code_grant(
        self, request: dict, alexa_redirect: str
    ) -> tuple[str, Any, dict[str, str], dict[str, str], Any]:
        """Sign-in at Google with a fresh state, then the code exchanged at the access token URL:
        (state, Google's redirect, its query, the exchange's form, the exchange's answer)."""
        state = secrets.token_urlsafe(16)
        separator = "&" if "?" in request["authorizationUrl"] else "?"
        query = urlencode(
            {
                "state": state,
                "client_id": request["clientId"],
                "response_type": "code",
                "scope": " ".join(request["scopes"]),
                "redirect_uri": alexa_redirect,
            }
        )
        hop = self.http.get(
            f"{request['authorizationUrl']}{separator}{query}", allow_redirects=False, timeout=HTTP_TIMEOUT
        )
        returned = dict(parse_qsl(urlsplit(hop.headers.get("Location", "")).query))
        form = {
            "grant_type": "authorization_code",
            "code": returned.get("code", ""),
            "redirect_uri": alexa_redirect,
            "client_id": request["clientId"],
            "client_secret": request["clientSecret"],
        }
        tokens = self.http.post(request["accessTokenUrl"], data=form, timeout=HTTP_TIMEOUT)
        return state, hop, returned, form, tokens


def spoken_has(*words: str) -> Callable[[dict], list[tuple[str, bool]]]:
    def expect(reply: dict) -> list[tuple[str, bool]]:
        text = alexa.spoken(reply).lower()
        return [(f"speech mentions {word!r}", word.lower() in text) for word in words]

    return expect


def link_card(reply: dict) -> list[tuple[str, bool]]:
    return [("LinkAccount card", alexa.card_type(reply) == "LinkAccount"), ("session ends", alexa.ends_session(reply))]


def both(*expectations: Callable[[dict], list[tuple[str, bool]]]) -> Callable[[dict], list[tuple[str, bool]]]:
    return lambda reply: [check for expect in expectations for check in expect(reply)]


def unchanged(talk: Conversation, *device_ids: str) -> Callable[[dict], list[tuple[str, bool]]]:
    """The devices are as they were before this turn: nothing was sent."""
    before = {device_id: talk.device(device_id) for device_id in device_ids}
    return lambda reply: [
        (f"{device_id} unchanged", talk.device(device_id) == traits) for device_id, traits in before.items()
    ]


def field_situations(talk: Conversation, token: str) -> None:
    """What people running Nest through SDM met, each produced by the fake Google."""
    transcript = talk.transcript
    transcript.phase(
        "7a. Situations from the field: two homes, an outage, stale state, a disabled API, a trickling API, near-misses"
    )
    talk.fake_google("scenario/two-homes", "the user adds a Lake House home with its own (heat-only) Living Room")
    ask = talk.say(
        "Alexa, ask home thermostat to set the living room to 20",
        alexa.set_temp("20", "living room", token=token),
        expect=both(
            spoken_has("at home", "at lake house"),
            unchanged(talk, "living-room-thermostat", "lake-living-room-thermostat"),
        ),
    )
    talk.say(
        "the lake house",
        alexa.set_temp(thermostat="lake house", token=token, attributes=ask.get("sessionAttributes")),
        expect=both(spoken_has("lake house", "eco mode"), unchanged(talk, "lake-living-room-thermostat")),
    )
    ask = talk.say(
        "Alexa, ask home thermostat to set the living room to 20",
        alexa.set_temp("20", "living room", token=token),
        expect=spoken_has("which one"),
    )
    talk.say(
        "the first one",
        alexa.set_temp(thermostat="first one", token=token, attributes=ask.get("sessionAttributes")),
        expect=spoken_has("living room at home is heating to 20"),
    )
    talk.say(
        "Alexa, ask home thermostat what the living room is set to",
        alexa.status("living room", token=token),
        expect=both(
            spoken_has("at home", "at lake house is", "in eco mode at 60"),
            lambda r: [("the heat-only thermostat's unusable eco 84 °F is not spoken", "84" not in alexa.spoken(r))],
        ),
    )
    talk.fake_google("scenario/outage", 'Google drops the Kitchen\'s traits (listed with "traits": {})')
    talk.say(
        "Alexa, ask home thermostat for the temperature",
        alexa.status(token=token),
        expect=both(
            spoken_has("kitchen isn't reporting"),
            lambda r: [("no LinkAccount card", alexa.card_type(r) != "LinkAccount")],
        ),
    )
    talk.fake_google("scenario/default", "the Kitchen reports again (the fake's default thermostats)")
    talk.say(
        "Alexa, ask home thermostat for the temperature",
        alexa.status(token=token),
        expect=spoken_has("living room is 19.5 degrees, heating to 21"),
    )
    talk.fake_google(
        "devices/living-room-thermostat",
        "within 30 s, someone switches the Living Room to cool in "
        "the Nest app (the skill's cached list still says heat)",
        fresh_container=False,
        mode="COOL",
    )
    talk.say(
        "Alexa, ask home thermostat to set the living room to 23",
        alexa.set_temp("23", "living room", token=token),
        expect=spoken_has("living room is cooling to 23"),
    )
    transcript.check(
        "SetHeat was refused, the device read afresh, and SetCool sent once",
        talk.device("living-room-thermostat")["sdm.devices.traits.ThermostatTemperatureSetpoint"]
        == {"coolCelsius": 23.0},
    )
    talk.fake_google("scenario/service-disabled", "the operator's Cloud project has the SDM API disabled")
    talk.say(
        "Alexa, ask home thermostat for the temperature",
        alexa.status(token=token),
        expect=both(
            spoken_has("isn't available to this skill"), lambda r: [("no LinkAccount card", alexa.card_type(r) is None)]
        ),
    )
    talk.fake_google("scenario/default", "the operator enables the SDM API again (the fake's default thermostats)")
    with in_background(TricklingFront(talk.rehearsal.google_url, "body", interval=0.4)) as front:
        transcript.note(f"SDM answers 200 but sends its body one byte every 0.4 s (a stand-in at {front})")
        started = time.monotonic()
        talk.say(
            "Alexa, ask home thermostat for the temperature",
            alexa.status(token=token),
            expect=spoken_has("didn't answer in time"),
            handler=talk.skill_behind(f"{front}/v1"),
        )
        elapsed = time.monotonic() - started
    transcript.check(f"answered in {elapsed:.1f} s, within Alexa's 8 s", elapsed < 7.0)
    ask = talk.say(
        "Alexa, ask home thermostat to set the bedrom to 72 (misheard)",
        alexa.set_temp("72", "bedrom", token=token),
        expect=both(spoken_has("did you mean the bedroom"), unchanged(talk, "bedroom-thermostat")),
    )
    talk.say(
        "no",
        alexa.intent("AMAZON.NoIntent", token=token, attributes=ask.get("sessionAttributes")),
        expect=both(spoken_has("didn't change"), unchanged(talk, "bedroom-thermostat")),
    )
    ask = talk.say(
        "Alexa, ask home thermostat to set the bedrom to 72 (misheard)",
        alexa.set_temp("72", "bedrom", token=token),
        expect=spoken_has("did you mean the bedroom"),
    )
    talk.say(
        "yes",
        alexa.intent("AMAZON.YesIntent", token=token, attributes=ask.get("sessionAttributes")),
        expect=spoken_has("bedroom is cooling to 72"),
    )
    talk.say(
        "Alexa, ask home thermostat to set the guest bedroom to 20",
        alexa.set_temp("20", "guest bedroom", token=token),
        expect=both(
            spoken_has("couldn't find a thermostat called guest bedroom"),
            unchanged(talk, "guest-room-thermostat", "bedroom-thermostat"),
        ),
    )
    talk.say(
        "Alexa, ask home thermostat to set the kitchen to 70",
        alexa.set_temp("70", "kitchen", token=token),
        expect=spoken_has("between 66 and 74"),
    )


def control(intent: str, room: str | None, token: str, **slots: dict) -> dict:
    return alexa.intent(intent, {"thermostat": alexa.slot("thermostat", room), **slots}, token=token)


def more_controls(talk: Conversation, token: str) -> None:
    """Mode, eco, warmer and cooler, humidity, the fan and running state, with refusals."""
    talk.transcript.phase("7b. More controls: mode, eco, warmer and cooler, humidity, fan, running state")
    trait = "sdm.devices.traits."

    def mode(heard: str, mode_id: str) -> dict:
        return {"mode": alexa.resolved_slot("mode", heard, "THERMOSTAT_MODE", mode_id)}

    def check(what: str, device_id: str, read: Callable[[dict], object], expected: object) -> None:
        talk.transcript.check(what, read(talk.device(device_id)) == expected)

    talk.say(
        "Alexa, ask home thermostat to switch the kitchen to cool",
        control("SetModeIntent", "kitchen", token, **mode("cool", "COOL")),
        expect=spoken_has("kitchen is set to cool"),
    )
    check(
        "Kitchen: ThermostatMode.SetMode COOL",
        "kitchen-thermostat",
        lambda t: t[trait + "ThermostatMode"]["mode"],
        "COOL",
    )
    talk.say(
        "Alexa, ask home thermostat to switch the guest room to cool",
        control("SetModeIntent", "guest room", token, **mode("cool", "COOL")),
        expect=both(spoken_has("can't be set to cool"), unchanged(talk, "guest-room-thermostat")),
    )
    talk.say(
        "Alexa, ask home thermostat to turn on eco in the guest room",
        control("SetModeIntent", "guest room", token, **mode("eco", "ECO")),
        expect=both(
            spoken_has("turned off", "can't turn on eco while it's off"), unchanged(talk, "guest-room-thermostat")
        ),
    )
    talk.say(
        "Alexa, ask home thermostat to put the kitchen in energy saving mode",
        control("SetModeIntent", "kitchen", token, **mode("energy saving", "ECO")),
        expect=spoken_has("kitchen is in eco mode"),
    )
    check(
        "Kitchen: ThermostatEco.SetMode MANUAL_ECO",
        "kitchen-thermostat",
        lambda t: t[trait + "ThermostatEco"]["mode"],
        "MANUAL_ECO",
    )
    talk.say(
        "Alexa, ask home thermostat to turn off eco mode in the kitchen",
        control("EcoOffIntent", "kitchen", token),
        expect=spoken_has("eco is off", "kitchen is set to cool"),
    )
    talk.say(
        "Alexa, ask home thermostat to make the living room warmer",
        control(
            "AdjustTempIntent",
            "living room",
            token,
            direction=alexa.resolved_slot("direction", "warmer", "DIRECTION", "UP"),
            amount=alexa.slot("amount"),
        ),
        expect=spoken_has("heating to 22"),
    )
    talk.say(
        "Alexa, ask home thermostat to turn the living room down by 2 degrees",
        control(
            "AdjustTempIntent",
            "living room",
            token,
            direction=alexa.resolved_slot("direction", "down", "DIRECTION", "DOWN"),
            amount=alexa.slot("amount", "2"),
        ),
        expect=spoken_has("heating to 20"),
    )
    check(
        "Living Room: SetHeat 20 °C",
        "living-room-thermostat",
        lambda t: t[trait + "ThermostatTemperatureSetpoint"],
        {"heatCelsius": 20.0},
    )
    talk.say(
        "Alexa, ask home thermostat what's the humidity",
        control("HumidityIntent", None, token),
        expect=spoken_has("living room is 45 percent", "kitchen is 40 percent"),
    )
    talk.say(
        "Alexa, ask home thermostat to run the living room fan for an hour",
        control(
            "FanIntent",
            "living room",
            token,
            fan_state=alexa.slot("fan_state"),
            duration=alexa.slot("duration", "PT1H"),
        ),
        expect=spoken_has("fan of the living room will run for 1 hour"),
    )
    check("Living Room: Fan.SetTimer ON", "living-room-thermostat", lambda t: t[trait + "Fan"]["timerMode"], "ON")
    talk.say(
        "Alexa, ask home thermostat to run the bedroom fan",
        control(
            "FanIntent",
            "bedroom",
            token,
            fan_state=alexa.resolved_slot("fan_state", "run", "ON_OFF", "ON"),
            duration=alexa.slot("duration"),
        ),
        expect=both(spoken_has("has no fan"), unchanged(talk, "bedroom-thermostat")),
    )
    talk.say(
        "Alexa, ask home thermostat to turn the living room fan off",
        control(
            "FanIntent",
            "living room",
            token,
            fan_state=alexa.resolved_slot("fan_state", "off", "ON_OFF", "OFF"),
            duration=alexa.slot("duration"),
        ),
        expect=spoken_has("fan of the living room is off"),
    )
    talk.say(
        "Alexa, ask home thermostat is the heat on",
        alexa.status(token=token),
        expect=spoken_has("not running right now", "and cooling right now"),
    )


def other_languages(talk: Conversation, token: str) -> None:
    """A household in Germany and one in Japan: the same skill answers in the request's language
    (the request's locale), reading numbers as the language does; names stay as the user wrote them.
    Each household changes a thermostat of its own, as two homes would: SDM takes at most 5 commands a
    minute per thermostat (the fake's SANDBOX_COMMAND_LIMITS), and by the German household's change the
    Living Room has had its 5 this minute (7b's warmer, down, fan on and fan off, then 21.5)."""
    transcript = talk.transcript
    transcript.phase("7c. The household's language: German and Japanese")
    talk.say(
        "Alexa, frage heimthermostat nach der temperatur im living room",
        alexa.status("living room", token=token, locale="de-DE"),
        expect=spoken_has("living room:", "grad"),
    )
    talk.say(
        "Alexa, sage heimthermostat stell das living room auf einundzwanzig komma fünf grad",
        alexa.set_temp("21.5", "living room", token=token, locale="de-DE"),
        expect=spoken_has("okay, living room heizt jetzt auf 21,5 grad"),
    )
    talk.say(
        "Alexa, frage heimthermostat nach der luftfeuchtigkeit",
        alexa.intent("HumidityIntent", {"thermostat": alexa.slot("thermostat")}, token=token, locale="de-DE"),
        expect=spoken_has("prozent luftfeuchtigkeit"),
    )
    talk.say(
        "アレクサ、おうちのサーモスタットでリビングの温度を教えて",
        alexa.status("living room", token=token, locale="ja-JP"),
        expect=spoken_has("living roomは", "度"),
    )
    transcript.note("the household in Japan changes its own thermostat, the Office (heat, in eco, Celsius)")
    talk.say(
        "アレクサ、おうちのサーモスタットでオフィスを二十一度にして",
        alexa.set_temp("21", "office", token=token, locale="ja-JP"),
        expect=both(
            spoken_has("officeはエコモードなので、変更しませんでした", "「エコをオフにして」"),
            unchanged(talk, "office-thermostat"),
        ),
    )
    talk.say(
        "アレクサ、おうちのサーモスタットでオフィスのエコをオフにして",
        alexa.intent("EcoOffIntent", {"thermostat": alexa.slot("thermostat", "office")}, token=token, locale="ja-JP"),
        expect=spoken_has("エコモードをオフにしました", "officeは暖房モードに戻りました"),
    )
    talk.say(
        "アレクサ、おうちのサーモスタットでオフィスを二十一度にして",
        alexa.set_temp("21", "office", token=token, locale="ja-JP"),
        expect=spoken_has("わかりました。officeを暖房で21度に設定しました。"),
    )
    office = talk.device("office-thermostat")
    transcript.check(
        "Office: ThermostatEco.SetMode OFF, then ThermostatTemperatureSetpoint.SetHeat 21 °C",
        office["sdm.devices.traits.ThermostatEco"]["mode"] == "OFF"
        and office["sdm.devices.traits.ThermostatTemperatureSetpoint"] == {"heatCelsius": 21.0},
    )


def converse(transcript: Transcript, rehearsal: Rehearsal) -> None:
    talk = Conversation(transcript, rehearsal)
    transcript.phase("4. Before linking")
    talk.say("Alexa, open home thermostat", alexa.launch(token=None), expect=link_card)
    talk.say("Alexa, ask home thermostat for the temperature", alexa.status(token=None), expect=link_card)

    talk.token = token = talk.link_through_bridge()

    transcript.phase("6. Linked: status and setting each thermostat")
    talk.say(
        "Alexa, open home thermostat",
        alexa.launch(token=token),
        expect=lambda r: [("welcome keeps the session open", not alexa.ends_session(r))],
    )
    talk.say(
        "Alexa, ask home thermostat for the temperature",
        alexa.status(token=token),
        expect=both(
            spoken_has("living room", "bedroom", "kitchen", "guest room", "office", "eco", "turned off"),
            lambda r: [("Simple card with the same text", alexa.card_type(r) == "Simple")],
        ),
    )
    talk.say(
        "Alexa, ask home thermostat to set the living room to 22",
        alexa.set_temp("22", "living room", token=token),
        expect=spoken_has("heating to 22"),
    )
    transcript.check(
        "Living Room (Celsius, heat) now heats to 22 °C",
        talk.device("living-room-thermostat")["sdm.devices.traits.ThermostatTemperatureSetpoint"].get("heatCelsius")
        == 22.0,
    )
    talk.say(
        "Alexa, ask home thermostat to set the bedroom to 72",
        alexa.set_temp("72", "bedroom", token=token),
        expect=spoken_has("cooling to 72"),
    )
    transcript.check(
        "Bedroom (Fahrenheit, cool) now cools to 72 °F = 22.2 °C",
        abs(
            talk.device("bedroom-thermostat")["sdm.devices.traits.ThermostatTemperatureSetpoint"].get("coolCelsius", 0)
            - (72 - 32) * 5 / 9
        )
        < 0.01,
    )
    talk.say(
        "Alexa, ask home thermostat to set the kitchen to 70",
        alexa.set_temp("70", "kitchen", token=token),
        expect=spoken_has("between 66 and 74"),
    )
    kitchen = talk.device("kitchen-thermostat")["sdm.devices.traits.ThermostatTemperatureSetpoint"]
    transcript.check(
        "Kitchen (Fahrenheit, heat-cool 68-76) keeps its 8 °F span around 70: 66-74 °F",
        abs(kitchen.get("heatCelsius", 0) - (66 - 32) * 5 / 9) < 0.01
        and abs(kitchen.get("coolCelsius", 0) - (74 - 32) * 5 / 9) < 0.01,
    )

    transcript.phase("7. Failures the skill explains")
    before = talk.device("guest-room-thermostat")
    talk.say(
        "Alexa, ask home thermostat to set the guest room to 20",
        alexa.set_temp("20", "guest room", token=token),
        expect=spoken_has("turned off"),
    )
    transcript.check("the Guest Room (off) was not changed", talk.device("guest-room-thermostat") == before)
    talk.say(
        "Alexa, ask home thermostat to set the office to 20",
        alexa.set_temp("20", "office", token=token),
        expect=spoken_has("eco mode"),
    )
    talk.say(
        "Alexa, ask home thermostat to set the living room to 95",
        alexa.set_temp("95", "living room", token=token),
        expect=spoken_has("between 10 and 32"),
    )
    ask = talk.say(
        "Alexa, ask home thermostat to set it to 21",
        alexa.set_temp("21", token=token),
        expect=lambda r: [
            ("asks which thermostat, session open", not alexa.ends_session(r) and "which" in alexa.spoken(r).lower())
        ],
    )
    talk.say(
        "the living room",
        alexa.set_temp(thermostat="living room", token=token, attributes=ask.get("sessionAttributes")),
        expect=spoken_has("heating to 21"),
    )
    talk.say(
        "Alexa, ask home thermostat to set the bedroom to ?",
        alexa.set_temp("?", "bedroom", token=token),
        expect=lambda r: [
            ("asks for the temperature again", not alexa.ends_session(r) and "temperature" in alexa.spoken(r).lower())
        ],
    )
    talk.say(
        "Alexa, ask home thermostat for the temperature",
        alexa.status(token=token),
        expect=spoken_has("heating to 21", "cooling to 72", "between 66 and 74"),
    )
    field_situations(talk, token)
    talk.say(
        "Alexa, ask home thermostat for the temperature",
        alexa.status(token=token),
        expect=spoken_has("heating to 21", "cooling to 72", "between 66 and 74"),
    )
    more_controls(talk, token)
    other_languages(talk, token)
    revoked = talk.http.post(f"{rehearsal.google_url}/revoke", params={"token": token}, timeout=HTTP_TIMEOUT)
    transcript.note(f"the user removes the skill's access at Google (revoke: HTTP {revoked.status_code})")
    talk.say(
        "Alexa, ask home thermostat to set the kitchen to 71",
        alexa.set_temp("71", "kitchen", token=token),
        expect=link_card,
    )

    auth_code_token = talk.link_with_auth_code()
    talk.say(
        "Alexa, ask home thermostat what the bedroom is set to",
        alexa.status("bedroom", token=auth_code_token),
        expect=spoken_has("bedroom", "cooling to 72"),
    )
    smart_home(talk, auth_code_token)
    live_state(talk, auth_code_token)
    nest_events(talk)


def _shown(value: object) -> str:
    if isinstance(value, dict) and "scale" in value:
        return f"{value['value']:g} °{value['scale'][0]}"
    return str(value.get("value") if isinstance(value, dict) else value)


def _heard(reply: dict) -> str:
    """What the skill answered Alexa, in a line: the event, and its error type or new state."""
    event = reply["event"]
    name = event["header"]["name"]
    if name == "Discover.Response":
        return f"{name}: " + "; ".join(
            f"{e['friendlyName']} ({e['endpointId']}) "
            + next(
                (
                    "/".join(c["configuration"]["supportedModes"])
                    for c in e["capabilities"]
                    if c["interface"] == "Alexa.ThermostatController"
                ),
                "/".join(e["displayCategories"]),
            )
            for e in event["payload"]["endpoints"]
        )
    if name == "ErrorResponse":
        extra = {k: v for k, v in event["payload"].items() if k not in ("type", "message")}
        return f"{event['header']['namespace']}.ErrorResponse {event['payload']['type']}" + (
            f" {json.dumps(extra)}" if extra else ""
        )
    return f"{name}: " + ", ".join(f"{key} {_shown(value)}" for key, value in alexa.properties(reply).items())


def smart_home(talk: Conversation, token: str) -> None:
    """The same thermostats as Alexa devices. Directives as Alexa sends them (sandbox.alexa)
    to the skill function deployed in eu-west-1 for en-GB, each reply checked against the documented
    Smart Home message shapes."""
    transcript, rehearsal = talk.transcript, talk.rehearsal
    transcript.phase("9. Smart home: the thermostats as Alexa devices (Smart Home API v3, en-GB's region)")
    config = replace(rehearsal.config, account_linking="auth_code")
    api = smart_home_api(config, rehearsal.outputs, alexa.SKILL_ID)
    assert api is not None, "auth_code linking with a skill ID has a smart-home API"
    regions = {code: region["endpoint"]["uri"].split(":")[3] for code, region in api["regions"].items()}
    transcript.note(f"rendered apis.smartHome (auth_code linking; implicit has none): regions {regions}")
    transcript.check(
        "the manifest sends NA to us-east-1 and EU to eu-west-1", regions == {"NA": REGION, "EU": SECOND_REGION}
    )
    regional_env = deployed_environment(regional_skill_stack(SECOND_REGION), rehearsal.aws_env, SECOND_REGION)
    transcript.check(
        f"{regional_skill_stack(SECOND_REGION)}'s function has the home function's configuration",
        regional_env == deployed_environment(SKILL_STACK, rehearsal.aws_env),
    )
    template = emulator_client("cloudformation", rehearsal.aws_env, SECOND_REGION).get_template(
        StackName=regional_skill_stack(SECOND_REGION)
    )["TemplateBody"]
    template = template if isinstance(template, dict) else json.loads(template)
    triggers = {
        (r["Properties"]["Principal"], r["Properties"].get("EventSourceToken"))
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
    }
    transcript.check(
        "its smart-home trigger accepts only this skill", ("alexa-connectedhome.amazon.com", alexa.SKILL_ID) in triggers
    )
    talk.fake_google("scenario/default", "the fake's default thermostats, with fresh command quotas")
    talk.handler = talk.skill_behind(regional_env["SDM_API_BASE_URL"])
    talk.token = token  # the demo's own reads of the devices use the auth-code link's token too

    def directive(utterance: str, event: dict, expect: Callable[[dict], list[tuple[str, bool]]]) -> dict:
        print(f"\n   USER   {utterance}")
        reply = talk.handler(event, None)
        try:
            alexa.valid_smart_home(reply, event)
        except (AssertionError, KeyError) as error:
            transcript.check("a valid Smart Home message", False, repr(error))
            return reply
        print(f"   ALEXA  {_heard(reply)}")
        for what, ok in expect(reply):
            transcript.check(what, ok)
        return reply

    def state(**wanted: object) -> Callable[[dict], list[tuple[str, bool]]]:
        return lambda reply: [
            (f"{key} is {_shown(value)}", alexa.properties(reply).get(key) == value) for key, value in wanted.items()
        ]

    def error(kind: str) -> Callable[[dict], list[tuple[str, bool]]]:
        return lambda reply: [(f"ErrorResponse {kind}", alexa.error_type(reply) == kind)]

    found = directive(
        "Alexa, discover my devices",
        alexa.discover(token=token),
        lambda reply: [("five thermostats, no camera", len(reply["event"]["payload"]["endpoints"]) == 5)],
    )
    ids = {e["friendlyName"]: e["endpointId"] for e in found["event"]["payload"].get("endpoints", [])}
    directive(
        "(the Alexa app opens: a ReportState per device)",
        alexa.report_state(ids["Kitchen"], token=token),
        state(thermostatMode="AUTO", lowerSetpoint=alexa.degrees(68), upperSetpoint=alexa.degrees(76)),
    )
    directive(
        "Alexa, set the living room to 70",
        alexa.set_target(ids["Living Room"], 70, token=token),
        both(
            state(targetSetpoint=alexa.degrees(21.0, "CELSIUS")),
            lambda reply: [
                (
                    "SDM holds 21.0 °C (70 °F on this Celsius thermostat, to its half degree)",
                    talk.device("living-room-thermostat")["sdm.devices.traits.ThermostatTemperatureSetpoint"][
                        "heatCelsius"
                    ]
                    == 21.0,
                )
            ],
        ),
    )
    directive(
        "Alexa, make the kitchen warmer",
        alexa.adjust(ids["Kitchen"], 2, token=token),
        state(lowerSetpoint=alexa.degrees(70), upperSetpoint=alexa.degrees(78)),
    )
    directive(
        "Alexa, set the bedroom to eco",
        alexa.set_mode(ids["Bedroom"], "ECO", token=token),
        both(
            state(thermostatMode="ECO"),
            lambda reply: [
                (
                    "the Bedroom is in eco",
                    talk.device("bedroom-thermostat")["sdm.devices.traits.ThermostatEco"]["mode"] == "MANUAL_ECO",
                )
            ],
        ),
    )
    directive(
        "Alexa, set the office to 20",
        alexa.set_target(ids["Office"], 20, "CELSIUS", token=token),
        both(error("NOT_SUPPORTED_IN_CURRENT_MODE"), unchanged(talk, "office-thermostat")),
    )
    directive(
        "Alexa, set the guest room to 30 degrees",
        alexa.set_target(ids["Guest Room"], 30, "CELSIUS", token=token),
        error("THERMOSTAT_IS_OFF"),
    )
    directive(
        "Alexa, set the kitchen to 95",
        alexa.set_target(ids["Kitchen"], 95, token=token),
        error("TEMPERATURE_VALUE_OUT_OF_RANGE"),
    )
    talk.fake_google("devices/kitchen-thermostat", "the Kitchen thermostat loses its Wi-Fi", online=False)
    directive(
        "(the Alexa app asks the Kitchen's state)",
        alexa.report_state(ids["Kitchen"], token=token),
        state(connectivity={"value": "UNREACHABLE"}),
    )
    directive(
        "Alexa, set the kitchen to 72", alexa.set_target(ids["Kitchen"], 72, token=token), error("ENDPOINT_UNREACHABLE")
    )
    transcript.note(
        "the user nudges the Living Room warmer in the Alexa app, again and again "
        "(SDM allows 5 commands a minute per device)"
    )
    for step in range(4):
        directive(
            f"(warmer, tap {step + 1})",
            alexa.adjust(ids["Living Room"], 0.5, "CELSIUS", token=token),
            lambda reply: [("accepted", reply["event"]["header"]["name"] == "Response")],
        )
    directive(
        "(warmer, tap 5)", alexa.adjust(ids["Living Room"], 0.5, "CELSIUS", token=token), error("RATE_LIMIT_EXCEEDED")
    )
    one_reading(talk, token, directive, error)


def one_reading(talk: Conversation, token: str, directive: Callable, error: Callable) -> None:
    """SDM's answers read once for both doors, and capabilities only from SDM's documented fields, each
    situation produced by one of the fake's scenarios (sandbox/fake_devices.py SCENARIOS)."""
    talk.transcript.phase("9a. One reading of SDM for both doors; capabilities only from documented fields")
    talk.fake_google(
        "scenario/offline-on-command",
        'the Living Room is listed ONLINE, but SDM answers its commands 400 FAILED_PRECONDITION "Device is offline."',
    )
    talk.say(
        "Alexa, ask home thermostat to set the living room to 20",
        alexa.set_temp("20", "living room", token=token),
        expect=spoken_has("living room is offline"),
    )
    directive(
        "Alexa, set the living room to 20",
        alexa.set_target("living-room-thermostat", 20, "CELSIUS", token=token),
        error("ENDPOINT_UNREACHABLE"),
    )
    talk.fake_google(
        "scenario/empty-fan-trait", 'SDM lists the Bedroom with "sdm.devices.traits.Fan": {} (it has no fan)'
    )
    talk.say(
        "Alexa, ask home thermostat to run the bedroom fan",
        control(
            "FanIntent",
            "bedroom",
            token,
            fan_state=alexa.resolved_slot("fan_state", "run", "ON_OFF", "ON"),
            duration=alexa.slot("duration"),
        ),
        expect=both(spoken_has("has no fan"), unchanged(talk, "bedroom-thermostat")),
    )
    talk.fake_google("scenario/sensor-only", "a Hallway thermostat lists only Info, Temperature and Humidity")
    found = directive(
        "Alexa, discover my devices",
        alexa.discover(token=token),
        lambda reply: [
            (
                "the Hallway is a temperature sensor, not a thermostat controller",
                [
                    (e["displayCategories"], [c["interface"] for c in e["capabilities"]])
                    for e in reply["event"]["payload"]["endpoints"]
                    if e["endpointId"] == "hallway-thermostat"
                ]
                == [(["TEMPERATURE_SENSOR"], ["Alexa", "Alexa.TemperatureSensor"])],
            )
        ],
    )
    hallway = alexa.properties(
        directive(
            "(the Alexa app asks the Hallway's state)",
            alexa.report_state("hallway-thermostat", token=token),
            lambda reply: [],
        )
    )
    talk.transcript.check(
        "ReportState gives the Hallway's room temperature (68 °F, in Celsius: SDM lists no Settings)",
        hallway == {"temperature": alexa.degrees(20.0, "CELSIUS")} and len(found["event"]["payload"]["endpoints"]) == 6,
    )
    talk.say(
        "Alexa, ask home thermostat to set the hallway to 70",
        alexa.set_temp("70", "hallway", token=token),
        expect=spoken_has("only reports its readings"),
    )


def live_state(talk: Conversation, token: str) -> None:
    """Live state: Alexa keeps a current picture. The deployed stacks have live state on: the messaging
    credentials go to their object, AcceptGrant reaches the en-GB user's function (eu-west-1) and
    stores their tokens in the home region's table, and a voice change is reported to the EU gateway.
    A second Alexa account of the household then links the same Google account (en-US, us-east-1):
    it gets an item of its own, and a change reaches both Alexa accounts."""
    transcript, rehearsal = talk.transcript, talk.rehearsal
    amazon = rehearsal.amazon
    assert amazon is not None
    transcript.phase("10. Live state: AcceptGrant, the sealed token store, voice changes reported to Alexa")
    s3 = emulator_client("s3", rehearsal.aws_env)
    location = messaging_location(rehearsal.outputs)
    said = store_messaging_credentials(
        location, MessagingCredentials(amazon.lwa.client_id, amazon.lwa.client_secret), s3
    )
    transcript.note(
        "the deploy reads the skill's messaging client from SMAPI (`ask smapi get-skill-credentials`, "
        "rehearsed in tests/integration/test_deploy_rehearsal.py); here the stand-in's: " + said
    )
    head = s3.head_object(Bucket=location.bucket, Key=location.key)
    transcript.check(
        "the messaging object is SSE-KMS with the secrets key, beside the Google client secret",
        head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == location.kms_key_arn,
    )
    talk.fake_google(
        "scenario/default", "the fake's default thermostats, with fresh command quotas", fresh_container=False
    )
    previous = os.environ["AWS_REGION"]
    os.environ["AWS_REGION"] = SECOND_REGION  # as Lambda sets it for the en-GB user's function
    try:
        europe = talk.skill_behind(os.environ["SDM_API_BASE_URL"])
    finally:
        os.environ["AWS_REGION"] = previous
    amazon.tokeninfo.register(token, "demo-google-account")
    code = amazon.lwa.issue_code("demo-alexa-user")
    event = alexa.directive(
        "Alexa.Authorization",
        "AcceptGrant",
        {
            "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
            "grantee": {"type": "BearerToken", "token": token},
        },
        token=None,
        correlation_token=None,
    )
    print("\n   USER   (links the skill in the Alexa app; Alexa sends AcceptGrant to the en-GB function)")
    reply = europe(event, None)
    header = reply["event"]["header"]
    print(f"   ALEXA  {header['namespace']}.{header['name']}")
    transcript.check(
        "AcceptGrant.Response (Alexa.Authorization)",
        (header["namespace"], header["name"]) == ("Alexa.Authorization", "AcceptGrant.Response"),
    )
    transcript.check(
        "the grant code was exchanged once with LWA, with the messaging client",
        amazon.lwa.stats("demo-alexa-user") == {"exchanges": 1, "refreshes": 0},
    )

    table = os.environ["LIVE_STATE_TABLE"]
    dynamodb = emulator_client("dynamodb", rehearsal.aws_env)  # the home region's, us-east-1
    items = dynamodb.scan(TableName=table)["Items"]
    user = next((item for item in items if item["sk"]["S"] == "tokens"), None)
    if user is None:
        raise Deviation(f"no user item in {table}")
    sealed = user.get("sealed", {}).get("B", b"")
    transcript.note(
        f"{table} in {REGION} (moto's DynamoDB): {len(items)} items; the user's: pk "
        f"{user['pk']['S'][:17]}…, region {user['region']['S']}, endpoints "
        f"{', '.join(e['S'] for e in user['endpoints']['L'])}, sealed {len(sealed)} bytes "
        f"({sealed[:12].hex()}…), expires_at {user['expires_at']['N']}"
    )
    transcript.check(
        "one item for the user (a SHA-256 of their Alexa account's LWA user_id), listing the five thermostats, "
        "served by the EU gateway, and the user under their Google account (a SHA-256 of Google's sub)",
        user["pk"]["S"].startswith("user#")
        and "demo-google-account" not in json.dumps(items, default=str)
        and amazon.lwa.user_id_of("demo-alexa-user") not in json.dumps(items, default=str)
        and len(user["endpoints"]["L"]) == 5
        and user["region"]["S"] == "EU"
        and [(i["pk"]["S"], i["sk"]["S"]) for i in items if i["pk"]["S"].startswith("google#")]
        == [(f"google#{user['google']['S']}", user["pk"]["S"])],
    )
    transcript.check(
        "each thermostat lists the user (the index a change is reported through)",
        sorted(item["pk"]["S"] for item in items if item["pk"]["S"].startswith("endpoint#"))
        == sorted(f"endpoint#{e['S']}" for e in user["endpoints"]["L"]),
    )
    transcript.check(
        "the stored item holds ciphertext only: neither LWA token appears in it",
        b"Atz" not in sealed and "Atz" not in json.dumps(items, default=str),
    )
    template = emulator_client("cloudformation", rehearsal.aws_env).get_template(StackName="NestSkillSecrets")[
        "TemplateBody"
    ]
    template = template if isinstance(template, dict) else json.loads(template)
    deployed = next(r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    transcript.check(
        "the deployed table is encrypted at rest with its own customer managed key (SSE-KMS) and "
        "point-in-time recovery (moto's DescribeTable does not report CloudFormation's SSE)",
        deployed["SSESpecification"].get("SSEType") == "KMS"
        and "KMSMasterKeyId" in deployed["SSESpecification"]
        and deployed["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True},
    )
    kms = emulator_client("kms", rehearsal.aws_env)
    try:
        kms.decrypt(CiphertextBlob=sealed)
        opened = True
    except kms.exceptions.ClientError:
        opened = False
    transcript.check("the sealed pair does not open without its encryption context (table and user)", not opened)

    before = len(amazon.gateway.events())
    talk.say(
        "Alexa, ask home thermostat to set the living room to 20 (en-GB, eu-west-1)",
        alexa.set_temp("20", "living room", token=token),
        expect=spoken_has("heating to 20"),
        handler=europe,
    )
    received = amazon.gateway.events()[before:]
    if len(received) != 1:
        raise Deviation(f"the gateway stand-ins received {len(received)} events for one change")
    report = received[0]
    event = report.event["event"]
    change = event["payload"]["change"]
    changed = {p["name"]: p["value"] for p in change["properties"]}
    print(_report_line(report) + f"; context: {', '.join(p['name'] for p in report.event['context']['properties'])}")
    transcript.check(
        "one Alexa.ChangeReport, to the EU gateway, with the user's own LWA token",
        (event["header"]["namespace"], event["header"]["name"]) == ("Alexa", "ChangeReport")
        and report.region == "EU"
        and report.customer == "demo-alexa-user"
        and event["endpoint"]["scope"]["type"] == "BearerToken",
    )
    transcript.check(
        "for the Living Room, cause VOICE_INTERACTION, the new setpoint in payload.change",
        event["endpoint"]["endpointId"] == "living-room-thermostat"
        and change["cause"]["type"] == "VOICE_INTERACTION"
        and changed.get("targetSetpoint") == alexa.degrees(20.0, "CELSIUS"),
    )
    transcript.check(
        "the unchanged properties in context (connectivity among them)",
        "connectivity" in {p["name"] for p in report.event["context"]["properties"]}
        and not set(changed) & {p["name"] for p in report.event["context"]["properties"]},
    )
    transcript.check("no LWA refresh for a fresh token", amazon.lwa.stats("demo-alexa-user")["refreshes"] == 0)

    partner = talk.link_another_alexa_account()
    amazon.tokeninfo.register(partner, "demo-google-account")
    grant = alexa.directive(
        "Alexa.Authorization",
        "AcceptGrant",
        {
            "grant": {"type": "OAuth2.AuthorizationCode", "code": amazon.lwa.issue_code("demo-alexa-partner")},
            "grantee": {"type": "BearerToken", "token": partner},
        },
        token=None,
        correlation_token=None,
    )
    print(
        "\n   USER   (a second Alexa account in the household links the same Google account; Alexa sends "
        "AcceptGrant to the en-US function)"
    )
    header = talk.handler(grant, None)["event"]["header"]
    print(f"   ALEXA  {header['namespace']}.{header['name']}")
    users = [item for item in dynamodb.scan(TableName=table)["Items"] if item["sk"]["S"] == "tokens"]
    transcript.check(
        "AcceptGrant.Response, and an item of its own beside the first (a user is an Alexa account), "
        "served by the NA gateway",
        header["name"] == "AcceptGrant.Response"
        and sorted(u["region"]["S"] for u in users) == ["EU", "NA"]
        and len({u["google"]["S"] for u in users}) == 1,
    )
    before = len(amazon.gateway.events())
    talk.say(
        "Alexa, ask home thermostat to set the living room to 21 (en-US, the second Alexa account)",
        alexa.set_temp("21", "living room", token=partner),
        expect=spoken_has("heating to 21"),
    )
    received = amazon.gateway.events()[before:]
    for report in received:
        print(f"   GATEWAY {report.region} received {report.event['event']['header']['name']} for {report.customer}")
    transcript.check(
        "one ChangeReport per Alexa account, each on its own region's gateway with its own LWA token",
        sorted((r.region, r.customer) for r in received) == [("EU", "demo-alexa-user"), ("NA", "demo-alexa-partner")]
        and all(r.event["event"]["header"]["name"] == "ChangeReport" for r in received),
    )


def _report_line(report: fake_amazon.Received) -> str:
    """What a gateway stand-in received, as the transcript shows it."""
    event = report.event["event"]
    change = event["payload"]["change"]
    return (
        f"   GATEWAY {report.region} received {event['header']['namespace']}.{event['header']['name']} for "
        f"{event['endpoint']['endpointId']} ({report.customer}): cause {change['cause']['type']}, changed "
        + ", ".join(f"{p['name']} {_shown(p['value'])}" for p in change["properties"])
    )


def nest_events(talk: Conversation) -> None:
    """Nest events: a change made in the Nest app reaches Alexa. The fake Google changes the thermostat
    and answers the SDM event it publishes; the Pub/Sub push stand-in signs it (its own RSA key,
    its certificates served as Google serves its own) and POSTs it to the events function, deployed
    with the skill's asset, behind a loopback stand-in for its function URL; the function verifies
    the token with google-auth and reports the change to the gateway stand-in."""
    transcript, rehearsal = talk.transcript, talk.rehearsal
    amazon = rehearsal.amazon
    assert amazon is not None
    transcript.phase("11. Nest events: a change in the Nest app reaches Alexa through a Pub/Sub push")
    events_env = deployed_environment(SKILL_STACK, rehearsal.aws_env, handler="events_function.lambda_handler")
    transcript.note(
        "deployed events function environment: "
        + ", ".join(f"{k}={v}" for k, v in sorted(events_env.items()) if k.startswith(("PUSH_", "ACK_", "GOOGLE_")))
    )
    transcript.check(
        "the events function shares the skill's table, key and messaging object, with Google's certificates URL",
        all(events_env.get(k) == os.environ.get(k) for k in ("LIVE_STATE_TABLE", "MESSAGING_CREDENTIALS_OBJECT"))
        and events_env.get("GOOGLE_CERTS_URL") == "https://www.googleapis.com/oauth2/v1/certs",
    )
    with fake_pubsub.serving(events_env["PUSH_AUDIENCE"], events_env["PUSH_SERVICE_ACCOUNT"]) as (pubsub, certs_url):
        # In the sandbox only, Google's certificates and Amazon's hosts are the stand-ins on 127.0.0.1.
        saved = dict(os.environ)
        os.environ.update(events_env, GOOGLE_CERTS_URL=certs_url)
        try:
            entry = load_module("lambda_src/events_function.py", "demo_events_function")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        with running(fake_pubsub.function_url_app(entry.lambda_handler)) as events_url:
            transcript.note(f"the events function URL stand-in: {events_url}; Google's certificates: {certs_url}")
            before = len(amazon.gateway.events())
            answer = talk.http.post(
                f"{rehearsal.google_url}/__fake/nest-app/living-room-thermostat",
                json={"mode": "COOL"},
                timeout=HTTP_TIMEOUT,
            )
            answer.raise_for_status()
            sdm_event = answer.json()
            sdm_before = talk.http.get(f"{rehearsal.google_url}/__fake/stats", timeout=HTTP_TIMEOUT).json()["counts"]
            print("\n   USER   (sets the Living Room to cool in the Nest app)")
            print(f"   NEST   publishes resourceUpdate {json.dumps(sdm_event['resourceUpdate']['traits'])}")
            status = fake_pubsub.push(events_url, pubsub, sdm_event)
            print(f"   PUBSUB pushed it, signed (RS256, aud {events_env['PUSH_AUDIENCE']}): HTTP {status}")
            transcript.check("the push is accepted (204: Pub/Sub acknowledges it)", status == 204)
            received = amazon.gateway.events()[before:]
            reports = [r for r in received if r.event["event"]["header"]["name"] == "ChangeReport"]
            if len(reports) != 2:
                raise Deviation(f"the gateway stand-ins received {len(reports)} ChangeReports for one Nest app change")
            for report in reports:
                print(_report_line(report))
            transcript.check(
                "one Alexa.ChangeReport for the Living Room per Alexa account, each to its own region's gateway, "
                "cause APP_INTERACTION, thermostatMode COOL",
                sorted((r.region, r.customer) for r in reports)
                == [("EU", "demo-alexa-user"), ("NA", "demo-alexa-partner")]
                and all(
                    r.event["event"]["endpoint"]["endpointId"] == "living-room-thermostat"
                    and r.event["event"]["payload"]["change"]["cause"]["type"] == "APP_INTERACTION"
                    and {p["name"]: p["value"] for p in r.event["event"]["payload"]["change"]["properties"]}.get(
                        "thermostatMode"
                    )
                    == "COOL"
                    for r in reports
                ),
            )
            sdm_after = talk.http.get(f"{rehearsal.google_url}/__fake/stats", timeout=HTTP_TIMEOUT).json()["counts"]
            transcript.check(
                "no SDM call for the event (its state came from the stored listing)", sdm_after == sdm_before
            )
            again = fake_pubsub.push(events_url, pubsub, sdm_event)
            transcript.check(
                "Pub/Sub redelivering the same event changes nothing (deduplicated on eventId)",
                again == 204 and len(amazon.gateway.events()) == before + len(received),
            )
            forged = fake_pubsub.push(events_url, pubsub, sdm_event, kind="forged")
            transcript.check(
                "a push signed by another key is refused (401) and reports nothing",
                forged == 401 and len(amazon.gateway.events()) == before + len(received),
            )


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C reaches the demo and its children at once: a child that dies of it must not read as a
    deviation, and a second Ctrl-C must not cut the clean-up short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGINT, _interrupt)
    started = time.monotonic()
    WORKDIR.mkdir(parents=True, exist_ok=True)
    DEMO_SETTINGS[SETTINGS_ENV] = str(WORKDIR / SETTINGS_FILE_NAME)
    transcript = Transcript()
    client_secret = "demo-" + secrets.token_urlsafe(24)  # the fake Google client's secret for this run only
    aws_port, google_port, bridge_port = free_port(), free_port(), free_port()
    google_url, bridge_url = f"http://{LOOPBACK}:{google_port}", f"http://{LOOPBACK}:{bridge_port}"
    # moto resolves CloudFormation's TemplateURL only when the host says "localhost" (sandbox/aws_emulator.py).
    aws_env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": f"http://localhost:{aws_port}"}
    context = {
        "nest_project_id": PROJECT_ID,
        "nest_client_id": CLIENT_ID,
        "alexa_vendor_id": VENDOR_ID,
        "account_linking": "implicit",
        "sdm_api_base_url": f"{google_url}/v1",
        "skill_id": alexa.SKILL_ID,
        "locales": DEMO_LOCALES,
        "oauth_authorization_url": f"{google_url}/partnerconnections/{PROJECT_ID}/auth",
        "oauth_token_url": f"{google_url}/oauth2/v4/token",
        "live_state": "on",
        "events_service_account": fake_pubsub.SERVICE_ACCOUNT,
        "events_topic": "projects/owner-project/topics/nest-events",
    }
    redirect_uris = [f"{bridge_url}/callback", *AppConfig.from_mapping(context).alexa_redirect_urls]
    emulator_log = WORKDIR / "aws_emulator.log"
    print(f"make demo: a local rehearsal of the deployment (logs in {WORKDIR.relative_to(REPO_ROOT)}/)")
    try:
        with contextlib.ExitStack() as processes:
            processes.enter_context(
                Service(
                    "aws-emulator",
                    [sys.executable, "-m", "sandbox.aws_emulator", "--port", str(aws_port)],
                    aws_port,
                    env=child_env(**AWS_TEST_ENV),
                    log_path=emulator_log,
                )
            )
            processes.enter_context(
                Service(
                    "fake-google",
                    [
                        sys.executable,
                        "-m",
                        "sandbox.fake_google",
                        "--port",
                        str(google_port),
                        "--project-id",
                        PROJECT_ID,
                        "--client-id",
                        CLIENT_ID,
                        *[arg for uri in redirect_uris for arg in ("--redirect-uri", uri)],
                    ],
                    google_port,
                    env=child_env(FAKE_GOOGLE_CLIENT_SECRET=client_secret),
                    log_path=WORKDIR / "fake_google.log",
                )
            )
            amazon = processes.enter_context(
                fake_amazon.serving(MESSAGING_CLIENT_ID, "demo-messaging-" + secrets.token_urlsafe(24))
            )
            outputs = deploy(transcript, aws_env, context, emulator_log)
            store_credentials(transcript, aws_env, client_secret, context)

            transcript.phase("3. Serve the bridge (gunicorn, the Procfile's command) with the deployed function's env")
            bridge_env = deployed_environment(BRIDGE_STACK, aws_env)
            transcript.note("deployed bridge environment: " + ", ".join(sorted(bridge_env)))
            processes.enter_context(
                Service(
                    "bridge",
                    bridge_procfile_argv(f"{LOOPBACK}:{bridge_port}"),
                    bridge_port,
                    env=child_env(**aws_env, **bridge_env),
                    log_path=WORKDIR / "bridge.log",
                )
            )
            skill_env = deployed_environment(SKILL_STACK, aws_env)
            transcript.note("deployed skill environment: " + json.dumps(skill_env))
            os.environ.update(skill_env)
            # What Lambda gives the function (its region, credentials) and, in the sandbox only, where
            # Amazon's and Google's live-state hosts are: the stand-ins on 127.0.0.1.
            os.environ.update(
                aws_env,
                LWA_TOKEN_URL=amazon.lwa_url,
                GOOGLE_TOKENINFO_URL=amazon.tokeninfo_url,
                **{f"EVENT_GATEWAY_URL_{r}": url for r, url in amazon.gateway_urls.items()},
            )
            transcript.note(
                f"live-state stand-ins: LWA {amazon.lwa_url}, event gateways "
                + ", ".join(f"{r} {u}" for r, u in amazon.gateway_urls.items())
            )
            rehearsal = Rehearsal(
                aws_env, google_url, bridge_url, outputs, AppConfig.from_mapping(context), client_secret, amazon
            )
            converse(transcript, rehearsal)
    except KeyboardInterrupt:
        print("\ninterrupted: every process the demo started has been stopped")
        return 130
    except Exception as error:  # whatever broke, the transcript says so and the processes are stopped
        if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:  # a child died of the same Ctrl-C first
            print("\ninterrupted: every process the demo started has been stopped")
            return 130
        transcript.stopped = f"{type(error).__name__}: {error}"
        print(f"\n   DEVIATION, stopped: {error}")
    elapsed = time.monotonic() - started
    for deviation in transcript.deviations:
        print(f"  - deviation: {deviation}")
    print(
        f"\ndemo: {transcript.checks} checks, {transcript.checks - len(transcript.deviations)} as expected, "
        f"{len(transcript.deviations)} deviations{', stopped early' if transcript.stopped else ''}, "
        f"{elapsed:.0f} s; every process it started is stopped"
    )
    return 1 if transcript.deviations or transcript.stopped else 0


if __name__ == "__main__":
    sys.exit(main())
