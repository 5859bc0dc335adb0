"""A local stand-in for Amazon's Skill Management API (SMAPI) and Login with Amazon's token endpoint,
for the calls ask-cli 2.30.7 makes in `ask deploy --target skill-metadata` (new skill and update)
and `ask smapi update-account-linking-info` / `get-account-linking-info`, so `make deploy` and
`python -m ops credentials rotate` can be rehearsed with the real CLI.

Point ask-cli at it with ASK_SMAPI_SERVER_BASE_URL and ASK_LWA_TOKEN_HOST (both http://127.0.0.1:N).
Paths, methods, status codes and bodies follow SMAPI's REST reference; responses are built and
requests read with ask-smapi-model, SMAPI's own published models:
  POST /auth/o2/token                  LWA refresh_token grant (ask-cli posts JSON) -> access token
  POST /v1/skills/uploads              201 {uploadUrl, expiresAt}
  PUT  {uploadUrl}                     the package zip (S3's part: served here under /__fake/uploads/)
  POST /v1/skills/imports              {vendorId, location}: creates a skill; 202 + Location
  POST /v1/skills/{skillId}/imports    {location}: imports into that skill; 202 + Location
  GET  /v1/skills/imports/{importId}   ImportResponse: IN_PROGRESS, then SUCCEEDED or FAILED
  PUT  /v1/skills/{skillId}/stages/{stage}/accountLinkingClient   {"accountLinkingRequest": ...}: 204
  GET  /v1/skills/{skillId}/stages/{stage}/accountLinkingClient   200 {"accountLinkingResponse": ...} and an
       ETag: what was set, with the redirect URLs, never the client secret (SMAPI does not return it)
  POST /v1/skills/{skillId}/stages/{stage}/validations   {locales}: the certification checks; 202 {id, status}
  GET  /v1/skills/{skillId}/stages/{stage}/validations/{validationId}   ValidationsApiResponse
  DELETE /v1/skills/{skillId}          `ask smapi delete-skill`: 204
  GET  /v1/skills/{skillId}/credentials   `ask smapi get-skill-credentials`: 200 SkillCredentials
       {skillMessagingCredentials {clientId, clientSecret}}, the skill's Alexa Skill Messaging client
       (one per skill, made when first asked for; GET /__fake/state shows it, for tests)
Every SMAPI call needs an access token this server issued: ask-cli's own client sends it bare,
ask-smapi-sdk (behind `ask smapi`) as "Bearer <token>"; SMAPI takes both.

Checks SMAPI makes that this one makes too: the package is a zip with skill.json at its root (or in
one top-level folder); the manifest and every interactionModels/custom/<locale>.json read back
unchanged through ask-smapi-model (no unknown key, no bad enum); a custom endpoint is a Lambda ARN
or an https URL; a smart-home API has protocol version 3 and Lambda endpoints, each manifest
region's (NA, EU, FE) in the AWS region Alexa serves it from; accountLinking.json in a package is
ignored with a warning (the Skill Package API does not carry account linking); the account-linking body
has the `accountLinkingRequest` wrapper, reads back unchanged, uses https URLs, at most 15 scopes and
domains, and for AUTH_CODE names the token URL, the secret and the token scheme; only the development
stage can be updated; a
`file://assets/...` image in the manifest must be a file of the package. The certification
validation requires, per locale, a small (108x108) and a large (512x512) PNG icon, and with account
linking a privacy policy URL (Amazon's submission checklist); `ask deploy` to the development stage
does not.

Not faithful: no model build (an import reports IN_PROGRESS for `--in-progress-polls` polls, then
its result); a failed create leaves no skill behind; uploads never expire; the upload URL is plain
http on this server; one vendor, one refresh token. GET /__fake/state is the fake's own: skills,
what each import held, account linking per stage and the request log, for tests.
POST /__fake/refusals {"method", "path" (a regular expression), "status", "times"} makes the next
`times` matching SMAPI calls fail with that status and SMAPI's error body (429 throttling, 500, 503
outages), so a failure between two calls of one operation can be rehearsed.

Run: FAKE_SMAPI_REFRESH_TOKEN=... python -m sandbox.fake_smapi --port N --vendor-id V
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import secrets
import threading
import time
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ask_sdk_model_runtime.exceptions import SerializationException
from ask_sdk_model_runtime.serializer import DefaultSerializer
from ask_smapi_model.v1.bad_request_error import BadRequestError
from ask_smapi_model.v1.skill.account_linking.account_linking_response import AccountLinkingResponse
from ask_smapi_model.v1.skill.action import Action
from ask_smapi_model.v1.skill.import_response import ImportResponse
from ask_smapi_model.v1.skill.import_response_skill import ImportResponseSkill
from ask_smapi_model.v1.skill.resource_import_status import ResourceImportStatus
from ask_smapi_model.v1.skill.response_status import ResponseStatus
from ask_smapi_model.v1.skill.skill_credentials import SkillCredentials
from ask_smapi_model.v1.skill.skill_messaging_credentials import SkillMessagingCredentials
from ask_smapi_model.v1.skill.standardized_error import StandardizedError
from ask_smapi_model.v1.skill.upload_response import UploadResponse
from ask_smapi_model.v1.skill.validations.response_validation import ResponseValidation
from ask_smapi_model.v1.skill.validations.response_validation_importance import ResponseValidationImportance
from ask_smapi_model.v1.skill.validations.response_validation_status import ResponseValidationStatus
from ask_smapi_model.v1.skill.validations.validations_api_response import ValidationsApiResponse
from ask_smapi_model.v1.skill.validations.validations_api_response_result import ValidationsApiResponseResult
from ask_smapi_model.v1.skill.validations.validations_api_response_status import ValidationsApiResponseStatus

from sandbox.processes import LOOPBACK
from sandbox.serving import serve
from stacks.config import ALEXA_REDIRECT_HOSTS

ACCESS_TOKEN_LIFETIME_S = 3600
UPLOAD_URL_LIFETIME = timedelta(hours=1)
MAX_SCOPES_OR_DOMAINS = 15
EDITABLE_STAGE = "development"
STAGES = ("development", "certified", "live")
MODELS = {
    "manifest": "ask_smapi_model.v1.skill.manifest.skill_manifest_envelope.SkillManifestEnvelope",
    "interaction model": "ask_smapi_model.v1.skill.interaction_model.interaction_model_data.InteractionModelData",
    "account linking": "ask_smapi_model.v1.skill.account_linking.account_linking_request.AccountLinkingRequest",
    "account linking response": (
        "ask_smapi_model.v1.skill.account_linking.account_linking_response.AccountLinkingResponse"
    ),
}
_LAMBDA_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"(:[A-Za-z0-9$_-]{1,128})?$"
)
_LOCALE_MODEL = re.compile(r"^interactionModels/custom/(?P<locale>[a-z]{2}-[A-Z]{2})\.json$")
_UPLOADS = re.compile(r"^/v1/skills/uploads$")
_IMPORTS = re.compile(r"^/v1/skills/imports$")
_SKILL_IMPORTS = re.compile(r"^/v1/skills/(?P<skill_id>amzn1\.ask\.skill\.[0-9a-f-]{36})/imports$")
_IMPORT = re.compile(r"^/v1/skills/imports/(?P<import_id>[0-9a-f-]{36})$")
_ACCOUNT_LINKING = re.compile(r"^/v1/skills/(?P<skill_id>[^/]+)/stages/(?P<stage>[^/]+)/accountLinkingClient$")
_UPLOAD = re.compile(r"^/__fake/uploads/(?P<upload_id>[0-9a-f-]{36})$")
_SKILL = re.compile(r"^/v1/skills/(?P<skill_id>[^/]+)$")
_CREDENTIALS = re.compile(r"^/v1/skills/(?P<skill_id>[^/]+)/credentials$")
_VALIDATIONS = re.compile(r"^/v1/skills/(?P<skill_id>[^/]+)/stages/(?P<stage>[^/]+)/validations$")
_VALIDATION = re.compile(
    r"^/v1/skills/(?P<skill_id>[^/]+)/stages/(?P<stage>[^/]+)/validations/"
    r"(?P<validation_id>[0-9a-f-]{36})$"
)
ICON_SIZES = {"smallIconUri": 108, "largeIconUri": 512}
# SMAPI's error messages for the statuses a refusal may inject (its REST reference's error table).
REFUSAL_MESSAGES = {
    429: "Exceeds the permitted request limit.",
    500: "Internal Server Error.",
    503: "Service Unavailable.",
}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_serializer = DefaultSerializer()


class SmapiError(Exception):
    """An error answer: SMAPI's JSON body (StandardizedError or BadRequestError) or LWA's."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(body)
        self.status, self.body = status, body


def _error(status: int, message: str) -> SmapiError:
    return SmapiError(status, _as_json(StandardizedError(message=message)))


def _bad_request(message: str) -> SmapiError:
    return SmapiError(400, _as_json(BadRequestError(message=message)))


def _as_json(model: StandardizedError | BadRequestError) -> dict[str, Any]:
    """An error model as SMAPI's JSON body (ask-smapi-model's serializer types any JSON value)."""
    body = _serializer.serialize(model)
    assert isinstance(body, dict), "a model serializes to an object"
    return body


def _read_back(document: Any, kind: str) -> str | None:
    """None when ask-smapi-model reads the document back unchanged, else what is wrong with it."""
    try:
        model = _serializer.deserialize(json.dumps(document), MODELS[kind])
    except (SerializationException, TypeError, ValueError) as error:
        return f"the {kind} does not match SMAPI's schema: {error}"
    if _serializer.serialize(model) != document:
        return f"the {kind} has properties SMAPI's schema does not allow, or values of the wrong type"
    return None


@dataclass
class _Request:
    method: str
    path: str
    host: str
    authorization: str
    content_type: str
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise _bad_request("The request body is not valid JSON.") from None


@dataclass
class _Package:
    """What an import read from the uploaded zip."""

    manifest: dict[str, Any]
    endpoint: str | None
    locales: list[str]
    files: list[str]
    warnings: list[str]
    e_tag: str
    contents: dict[str, bytes] = field(default_factory=dict, repr=False)


class PackageError(Exception):
    """The package cannot be imported; each argument is one error SMAPI would list."""


# A smart-home endpoint of each manifest region must be a Lambda in the AWS region Alexa sends that
# region's directives from (alexa-smart-home.md, section 2).
SMART_HOME_REGIONS = {"NA": "us-east-1", "EU": "eu-west-1", "FE": "us-west-2"}


def _smart_home_problems(smart_home: Any) -> list[str]:
    """apis.smartHome: protocol version 3, a Lambda ARN default endpoint, and each region's endpoint
    a Lambda in that region's AWS region."""
    if smart_home is None:
        return []
    problems = []
    if smart_home.get("protocolVersion") not in ("3", "3.0"):
        problems.append("skill.json: apis.smartHome.protocolVersion must be 3.")
    endpoint = ((smart_home.get("endpoint") or {}).get("uri")) or ""
    if not _LAMBDA_ARN.match(endpoint):
        problems.append(f"skill.json: apis.smartHome.endpoint.uri {endpoint!r} is not a Lambda ARN.")
    for code, region in (smart_home.get("regions") or {}).items():
        uri = ((region or {}).get("endpoint") or {}).get("uri") or ""
        wanted = SMART_HOME_REGIONS.get(code)
        if not _LAMBDA_ARN.match(uri) or uri.split(":")[3] != wanted:
            problems.append(
                f"skill.json: apis.smartHome.regions.{code}.endpoint.uri {uri!r} is not a Lambda in {wanted}."
            )
    return problems


def read_package(data: bytes) -> _Package:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        files = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError):
        raise PackageError("The skill package is not a valid zip file.") from None
    roots = {name.split("/")[0] for name in files}
    prefix = f"{roots.pop()}/" if "skill.json" not in files and len(roots) == 1 else ""
    files = {name.removeprefix(prefix): content for name, content in files.items()}
    if "skill.json" not in files:
        raise PackageError("The skill package has no skill.json at its root.")
    errors: list[str] = []
    documents: dict[str, Any] = {}
    for name, content in files.items():
        if name == "skill.json" or _LOCALE_MODEL.match(name):
            try:
                documents[name] = json.loads(content)
            except ValueError:
                errors.append(f"{name} is not valid JSON.")
    manifest = documents.get("skill.json")
    if manifest is not None and not isinstance(manifest, dict):
        errors.append("skill.json is not a JSON object.")
        manifest = None
    endpoint = None
    if manifest is not None:
        problem = _read_back(manifest, "manifest")
        errors += [f"skill.json: {problem}"] if problem else []
        custom = ((manifest.get("manifest") or {}).get("apis") or {}).get("custom")
        endpoint = ((custom or {}).get("endpoint") or {}).get("uri")
        if endpoint is not None and not (_LAMBDA_ARN.match(endpoint) or endpoint.startswith("https://")):
            errors.append(
                f"skill.json: apis.custom.endpoint.uri {endpoint!r} is neither a Lambda ARN nor an https URL."
            )
        if custom is not None and not any(_LOCALE_MODEL.match(name) for name in files):
            errors.append("A custom skill needs an interaction model under interactionModels/custom/.")
        errors += _smart_home_problems(((manifest.get("manifest") or {}).get("apis") or {}).get("smartHome"))
    for locale, info in (
        (((manifest or {}).get("manifest") or {}).get("publishingInformation") or {}).get("locales", {}).items()
    ):
        for uri_name in ICON_SIZES:
            uri = (info or {}).get(uri_name) or ""
            if uri.startswith("file://") and uri.removeprefix("file://") not in files:
                errors.append(
                    f"skill.json: publishingInformation.locales.{locale}.{uri_name} names {uri}, "
                    f"which is not in the skill package."
                )
    locales = []
    for name in sorted(files):
        match = _LOCALE_MODEL.match(name)
        if match and name in documents:
            locales.append(match["locale"])
            problem = _read_back(documents[name], "interaction model")
            errors += [f"{name}: {problem}"] if problem else []
    if errors:
        raise PackageError(*errors)
    assert manifest is not None, "skill.json is there (checked above) and parsed, or its error was raised"
    warnings = [
        f"{name}: the Skill Package API does not support account linking; this file is ignored. "
        f"Use the account linking operations of SMAPI instead."
        for name in files
        if name.rsplit("/", 1)[-1] == "accountLinking.json"
    ]
    return _Package(manifest, endpoint, locales, sorted(files), warnings, hashlib.sha256(data).hexdigest(), files)


def certification_problems(
    manifest: dict[str, Any], files: dict[str, bytes], locales: Sequence[str], account_linking: bool
) -> list[tuple[str, str, str]]:
    """(locale, title, description) for each certification requirement the skill fails in `locales`:
    both icons as PNGs of the required size, and a privacy policy URL when the skill links accounts."""
    body = manifest.get("manifest") or {}
    published = (body.get("publishingInformation") or {}).get("locales") or {}
    privacy = (body.get("privacyAndCompliance") or {}).get("locales") or {}
    problems = []
    for locale in locales:
        info = published.get(locale) or {}
        for uri_name, size in ICON_SIZES.items():
            problem = _icon_problem(info.get(uri_name) or "", files, size)
            if problem:
                problems.append((locale, f"{uri_name} is not a {size}x{size} PNG", problem))
        url = (privacy.get(locale) or {}).get("privacyPolicyUrl") or ""
        if account_linking and urlsplit(url).scheme not in ("http", "https"):
            problems.append(
                (
                    locale,
                    "Privacy policy URL is missing",
                    "A skill with account linking must link its privacy policy in every locale "
                    "(privacyAndCompliance.locales.<locale>.privacyPolicyUrl).",
                )
            )
    return problems


def _icon_problem(uri: str, files: dict[str, bytes], size: int) -> str | None:
    if not uri:
        return "The icon is missing."
    if not uri.startswith("file://"):
        return None if uri.startswith("https://") else f"{uri} is neither an https URL nor a package file."
    data = files.get(uri.removeprefix("file://"), b"")
    if not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return f"{uri} is not a PNG image."
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None if (width, height) == (size, size) else f"{uri} is {width}x{height} pixels."


@dataclass
class _Import:
    import_id: str
    action: Action
    skill_id: str | None
    polls_left: int
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    locales: list[str] = field(default_factory=list)
    e_tag: str | None = None

    def response(self) -> ImportResponse:
        if self.polls_left > 0:
            status = ResponseStatus.IN_PROGRESS
        else:
            status = ResponseStatus.FAILED if self.errors else ResponseStatus.SUCCEEDED
        resources = [
            ResourceImportStatus(name=name, action=self.action, status=status)
            for name in ["Manifest", *(f"InteractionModel.{locale}" for locale in self.locales)]
        ]
        skill = (
            ImportResponseSkill(skill_id=self.skill_id, e_tag=self.e_tag, resources=resources)
            if self.skill_id
            else None
        )
        done = status != ResponseStatus.IN_PROGRESS
        return ImportResponse(
            status=status,
            skill=skill,
            errors=[StandardizedError(code="INVALID_SKILL_PACKAGE", message=text) for text in self.errors]
            if done
            else None,
            warnings=[StandardizedError(code="UNSUPPORTED_FILE", message=text) for text in self.warnings],
        )


class FakeSmapi:
    """WSGI app holding all state in memory; every request is serialised by one lock."""

    def __init__(self, vendor_id: str, refresh_token: str, in_progress_polls: int = 1):
        self.vendor_id = vendor_id
        self._refresh_token = refresh_token
        self.in_progress_polls = in_progress_polls
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}
        self._uploads: dict[str, tuple[str, bytes | None]] = {}
        self._imports: dict[str, _Import] = {}
        self._packages: dict[str, dict[str, bytes]] = {}
        self._validations: dict[str, ValidationsApiResponse] = {}
        self.skills: dict[str, dict[str, Any]] = {}
        self.log: list[dict[str, Any]] = []
        self._refusals: list[dict[str, Any]] = []

    def __call__(self, environ, start_response):
        request = _Request(
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO") or "/",
            host=environ.get("HTTP_HOST") or f"{LOOPBACK}:{environ['SERVER_PORT']}",
            authorization=environ.get("HTTP_AUTHORIZATION", ""),
            content_type=environ.get("CONTENT_TYPE", ""),
            body=environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)),
        )
        with self._lock:
            try:
                status, body, headers = self._dispatch(request)
            except SmapiError as error:
                status, body, headers = error.status, error.body, []
            if not request.path.startswith("/__fake/state"):
                self.log.append({"method": request.method, "path": request.path, "status": status})
        payload = b"" if body is None else json.dumps(body).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *headers],
        )
        return [payload]

    def _dispatch(self, request: _Request) -> tuple[int, Any, list[tuple[str, str]]]:
        path, method = request.path, request.method
        if path.lower() == "/auth/o2/token" and method == "POST":
            return 200, self._token(request), []
        if path == "/__fake/state" and method == "GET":
            return 200, self.state(), []
        if path == "/__fake/refusals" and method == "POST":
            return self._add_refusal(request)
        match = _UPLOAD.match(path)
        if match and method == "PUT":
            return self._put_upload(request, match["upload_id"])
        for route_method, pattern, handler in (
            ("POST", _UPLOADS, self._create_upload),
            ("POST", _IMPORTS, self._create_skill),
            ("POST", _SKILL_IMPORTS, self._update_skill),
            ("GET", _IMPORT, self._import_status),
            ("PUT", _ACCOUNT_LINKING, self._update_account_linking),
            ("GET", _ACCOUNT_LINKING, self._account_linking),
            ("POST", _VALIDATIONS, self._start_validation),
            ("GET", _VALIDATION, self._validation),
            ("DELETE", _SKILL, self._delete_skill),
            ("GET", _CREDENTIALS, self._skill_credentials),
        ):
            match = pattern.match(path)
            if match and route_method == method:
                self._authenticate(request)
                self._refuse_if_asked(request)
                return handler(request, **match.groupdict())
        raise _error(404, "The resource being requested is not found.")

    def state(self) -> dict[str, Any]:
        return {"vendorId": self.vendor_id, "skills": self.skills, "requests": self.log}

    def _add_refusal(self, request: _Request) -> tuple[int, Any, list]:
        body = request.json()
        if not isinstance(body, dict) or body.get("status") not in REFUSAL_MESSAGES:
            raise _bad_request(f"a refusal needs method, path and a status of {sorted(REFUSAL_MESSAGES)}")
        self._refusals.append(
            {
                "method": str(body.get("method", "")),
                "path": re.compile(str(body.get("path", ""))),
                "status": body["status"],
                "times": int(body.get("times", 1)),
            }
        )
        return 204, None, []

    def _refuse_if_asked(self, request: _Request) -> None:
        for refusal in self._refusals:
            if refusal["times"] > 0 and refusal["method"] == request.method and refusal["path"].search(request.path):
                refusal["times"] -= 1
                raise _error(refusal["status"], REFUSAL_MESSAGES[refusal["status"]])

    # -- Login with Amazon -----------------------------------------------------------------------

    def _token(self, request: _Request) -> dict[str, Any]:
        if request.content_type.startswith("application/json"):
            form = request.json()
            form = form if isinstance(form, dict) else {}
        else:
            form = {key: values[0] for key, values in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "refresh_token":
            raise SmapiError(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "The authorization grant type is not supported",
                },
            )
        if not form.get("client_id") or not form.get("client_secret"):
            raise SmapiError(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if not secrets.compare_digest(str(form.get("refresh_token", "")), self._refresh_token):
            raise SmapiError(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The request has an invalid grant parameter : refresh_token",
                },
            )
        token = "fake-lwa-access-" + secrets.token_urlsafe(32)
        self._access[token] = time.monotonic() + ACCESS_TOKEN_LIFETIME_S
        return {
            "access_token": token,
            "refresh_token": self._refresh_token,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
        }

    def _authenticate(self, request: _Request) -> None:
        token = request.authorization.removeprefix("Bearer ").strip()
        if self._access.get(token, 0.0) <= time.monotonic():
            raise _error(401, "Token is invalid/expired")

    # -- Skill package ---------------------------------------------------------------------------

    def _create_upload(self, request: _Request) -> tuple[int, Any, list]:
        upload_id = str(uuid.uuid4())
        url = f"http://{request.host}/__fake/uploads/{upload_id}"
        self._uploads[upload_id] = (url, None)
        expires = datetime.now(UTC).replace(microsecond=0) + UPLOAD_URL_LIFETIME
        return 201, _serializer.serialize(UploadResponse(upload_url=url, expires_at=expires)), []

    def _put_upload(self, request: _Request, upload_id: str) -> tuple[int, Any, list]:
        if upload_id not in self._uploads:
            raise SmapiError(403, {"Code": "AccessDenied", "Message": "Request has expired or is not signed"})
        self._uploads[upload_id] = (self._uploads[upload_id][0], request.body)
        return 200, None, []

    def _uploaded(self, body: Any) -> bytes:
        location = body.get("location") if isinstance(body, dict) else None
        if not location:
            raise _bad_request("location is required.")
        match = _UPLOAD.match(urlsplit(location).path)
        url, data = self._uploads.get(match["upload_id"], ("", None)) if match else ("", None)
        if url != location or data is None:
            raise _bad_request(f"No skill package was uploaded to {location}.")
        return data

    def _create_skill(self, request: _Request) -> tuple[int, Any, list]:
        body = request.json()
        data = self._uploaded(body)
        if body.get("vendorId") != self.vendor_id:
            raise _bad_request(f"Vendor {body.get('vendorId')!r} is not accessible with this token.")
        return self._start_import(Action.CREATE, None, data)

    def _update_skill(self, request: _Request, skill_id: str) -> tuple[int, Any, list]:
        data = self._uploaded(request.json())
        if skill_id not in self.skills:
            raise _error(404, f"Skill {skill_id} not found.")
        return self._start_import(Action.UPDATE, skill_id, data)

    def _start_import(self, action: Action, skill_id: str | None, data: bytes) -> tuple[int, Any, list]:
        job = _Import(str(uuid.uuid4()), action, skill_id, self.in_progress_polls)
        try:
            package = read_package(data)
        except PackageError as error:
            job.errors = list(error.args)
        else:
            job.skill_id = skill_id or f"amzn1.ask.skill.{uuid.uuid4()}"
            job.warnings, job.locales, job.e_tag = package.warnings, package.locales, package.e_tag
            skill = self.skills.setdefault(
                job.skill_id, {"vendorId": self.vendor_id, "imports": [], "accountLinking": {}}
            )
            skill.update(manifest=package.manifest, endpoint=package.endpoint, locales=package.locales)
            self._packages[job.skill_id] = package.contents
            skill["imports"].append(
                {
                    "importId": job.import_id,
                    "action": action.value,
                    "files": package.files,
                    "warnings": package.warnings,
                }
            )
        self._imports[job.import_id] = job
        return 202, None, [("Location", f"/v1/skills/imports/{job.import_id}")]

    def _import_status(self, request: _Request, import_id: str) -> tuple[int, Any, list]:
        job = self._imports.get(import_id)
        if job is None:
            raise _error(404, f"Import {import_id} not found.")
        response = job.response()
        job.polls_left = max(job.polls_left - 1, 0)
        return 200, _serializer.serialize(response), []

    # -- Account linking -------------------------------------------------------------------------

    def _update_account_linking(self, request: _Request, skill_id: str, stage: str) -> tuple[int, Any, list]:
        if stage not in STAGES:
            raise _bad_request(f"Invalid stage {stage!r}: expected one of {', '.join(STAGES)}.")
        if skill_id not in self.skills:
            raise _error(404, "The specified skill/stage/accountLinkingClient doesn't exist.")
        if stage != EDITABLE_STAGE:
            raise SmapiError(
                403,
                _as_json(
                    BadRequestError(message=f"Account linking can only be updated on the {EDITABLE_STAGE} stage.")
                ),
            )
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("accountLinkingRequest"), dict):
            raise _bad_request('Parsing error due to empty body: expected {"accountLinkingRequest": {...}}.')
        problem = _read_back(body, "account linking") or _account_linking_problem(body["accountLinkingRequest"])
        if problem:
            raise _bad_request(problem)
        self.skills[skill_id]["accountLinking"][stage] = body["accountLinkingRequest"]
        return 204, None, []

    def _account_linking(self, request: _Request, skill_id: str, stage: str) -> tuple[int, Any, list]:
        """What was set, as AccountLinkingResponse: every field it shares with the request (so never the
        client secret) and the redirect URLs Alexa gives this vendor."""
        linking = (self.skills.get(skill_id) or {}).get("accountLinking", {}).get(stage)
        if stage not in STAGES or not linking:
            raise _error(404, "The specified skill/stage/accountLinkingClient doesn't exist.")
        shown = {name: linking[name] for name in AccountLinkingResponse.attribute_map.values() if name in linking}
        shown["redirectUrls"] = [f"https://{host}/api/skill/link/{self.vendor_id}" for host in ALEXA_REDIRECT_HOSTS]
        body = {
            "accountLinkingResponse": _serializer.serialize(
                _serializer.deserialize(json.dumps(shown), MODELS["account linking response"])
            )
        }
        e_tag = hashlib.sha256(json.dumps(linking, sort_keys=True).encode()).hexdigest()
        return 200, body, [("ETag", e_tag)]

    def _skill_credentials(self, request: _Request, skill_id: str) -> tuple[int, Any, list]:
        """SkillCredentials: the skill's messaging client, made the first time it is asked for."""
        skill = self.skills.get(skill_id)
        if skill is None:
            raise _error(404, f"Skill {skill_id} not found.")
        messaging = skill.setdefault(
            "messagingCredentials",
            {
                "clientId": "amzn1.application-oa2-client." + secrets.token_hex(16),
                "clientSecret": "amzn1.oa2-cs.v1." + secrets.token_hex(32),
            },
        )
        body = SkillCredentials(
            skill_messaging_credentials=SkillMessagingCredentials(
                client_id=messaging["clientId"], client_secret=messaging["clientSecret"]
            )
        )
        return 200, _serializer.serialize(body), []

    def _delete_skill(self, request: _Request, skill_id: str) -> tuple[int, Any, list]:
        if self.skills.pop(skill_id, None) is None:
            raise _error(404, f"Skill {skill_id} not found.")
        self._packages.pop(skill_id, None)
        return 204, None, []

    # -- Certification validation ----------------------------------------------------------------

    def _start_validation(self, request: _Request, skill_id: str, stage: str) -> tuple[int, Any, list]:
        skill = self.skills.get(skill_id)
        if skill is None or stage != EDITABLE_STAGE:
            raise _error(404, f"Skill {skill_id} has no {stage} stage to validate.")
        body = request.json()
        locales = body.get("locales") if isinstance(body, dict) else None
        if not locales or not all(locale in skill["locales"] for locale in locales):
            raise _bad_request(f"locales must name locales of the skill: {', '.join(skill['locales'])}.")
        problems = certification_problems(
            skill["manifest"], self._packages[skill_id], locales, bool(skill["accountLinking"].get(stage))
        )
        validation_id = str(uuid.uuid4())
        self._validations[validation_id] = ValidationsApiResponse(
            id=validation_id,
            status=ValidationsApiResponseStatus.FAILED if problems else ValidationsApiResponseStatus.SUCCESSFUL,
            result=ValidationsApiResponseResult(
                validations=[
                    ResponseValidation(
                        title=title,
                        description=description,
                        category="PUBLISHING",
                        locale=locale,
                        importance=ResponseValidationImportance.REQUIRED,
                        status=ResponseValidationStatus.FAILED,
                    )
                    for locale, title, description in problems
                ]
            ),
        )
        return (
            202,
            {"id": validation_id, "status": "IN_PROGRESS"},
            [("Location", f"/v1/skills/{skill_id}/stages/{stage}/validations/{validation_id}")],
        )

    def _validation(self, request: _Request, skill_id: str, stage: str, validation_id: str) -> tuple[int, Any, list]:
        result = self._validations.get(validation_id)
        if result is None:
            raise _error(404, f"Validation {validation_id} not found.")
        return 200, _serializer.serialize(result), []


def _account_linking_problem(request: dict[str, Any]) -> str | None:
    kind = request.get("type")
    required = ["type", "authorizationUrl", "clientId"]
    if kind == "AUTH_CODE":
        required += ["accessTokenUrl", "clientSecret", "accessTokenScheme"]
    missing = [name for name in required if not request.get(name)]
    if missing:
        return f"accountLinkingRequest is missing {', '.join(missing)}."
    for name in ("authorizationUrl", "accessTokenUrl"):
        if name in request and urlsplit(request[name]).scheme != "https":
            return f"accountLinkingRequest.{name} must be an https URL."
    for name in ("scopes", "domains"):
        if len(request.get(name) or []) > MAX_SCOPES_OR_DOMAINS:
            return f"accountLinkingRequest.{name} holds more than {MAX_SCOPES_OR_DOMAINS} entries."
    return None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.fake_smapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--vendor-id", required=True, help="the developer account the refresh token belongs to")
    parser.add_argument(
        "--in-progress-polls",
        type=int,
        default=1,
        help="import status polls answered IN_PROGRESS before the result (ask-cli waits 2 s after one)",
    )
    args = parser.parse_args(argv)
    refresh_token = os.environ.get("FAKE_SMAPI_REFRESH_TOKEN")
    if not refresh_token:
        parser.error("set FAKE_SMAPI_REFRESH_TOKEN (the token never goes on the command line)")
    app = FakeSmapi(args.vendor_id, refresh_token, args.in_progress_polls)
    serve(app, args.port, "fake smapi")


if __name__ == "__main__":
    main()
