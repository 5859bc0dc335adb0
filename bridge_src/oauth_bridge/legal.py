"""The skill's privacy policy and terms of use, served at /privacy and /terms as the skill's
`privacyPolicyUrl` and `termsOfUseUrl` (Alexa requires a privacy policy for skills with account linking).

Fixed text about this project: what data flows where, what is kept, who operates it, dated UPDATED
(change it with the text). The settings they show are the operator's contact (PRIVACY_CONTACT, see
config.py), escaped, and whether live state is on (LIVE_STATE), which adds what it stores
(lambda_src/nest_skill/live_state/store.py); nothing is read from the request or the secrets object.
"""

from __future__ import annotations

import datetime
import html

UPDATED = datetime.date(2026, 12, 7)
"""The date of the current wording of both documents, shown at their top."""
_UPDATED_LINE = f"<p><em>Last updated: {UPDATED.day} {UPDATED:%B %Y}.</em></p>"

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "h2{margin-top:1.8rem}"
)


def _document(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
{body}
</body>
</html>
"""


_PRIVACY_POLICY = """
<p>Home Thermostat is an Alexa skill that reads and sets Google Nest thermostats through Google's Smart
Device Management (SDM) API. It is open-source software that each operator deploys to their own Amazon
Web Services (AWS) account. This policy describes what the software does with your data.</p>

<h2>Who is responsible</h2>
<p>The operator of this skill is whoever deployed this copy of it: the person or organisation that owns
the AWS account it runs in and the Google Device Access project it uses. They alone control the data
described here. The authors of the open-source project do not run it and receive nothing from it.</p>

<h2>What data is involved, and where it goes</h2>
<ul>
<li><strong>Your Google authorization.</strong> When you link your account in the Alexa app, you sign in
at Google, not here, and choose which homes and thermostats the skill may use. Google gives this service
a one-time code; the service exchanges it at Google for an access token and hands that token to Alexa,
which keeps it for your Amazon account. Depending on the linking mode, Alexa receives the token directly
from Google instead. The token travels only between Google, Alexa and the operator's own AWS account.</li>
<li><strong>Thermostat state and commands.</strong> Only when you ask (for example "what is the
temperature" or "set the kitchen to 21 degrees"), the skill, running in the operator's AWS account,
uses the token Alexa sends with your request to read your thermostats' names, temperatures, modes and
setpoints from Google, or to send the command you gave. It does not poll or read anything otherwise.</li>
<li><strong>What Alexa sends.</strong> Amazon processes your voice and sends the skill your request
under Amazon's own privacy notice; the skill receives the request and the token, not your voice.</li>
</ul>

<h2>What is stored</h2>
<p>Nothing about you is stored by the skill, except a list of your thermostats kept in memory for at
most 30 seconds, to answer follow-up requests quickly. It is kept under a one-way hash of your token,
never the token itself, and disappears when the skill's process ends. The service that performs
account linking stores nothing about you: it keeps, for at most 10 minutes, a random marker of linkings
already completed so that none can be replayed. The operator's Google client secret is kept encrypted
in the operator's AWS account.</p>

<h2>Logs</h2>
<p>The skill and the linking service log each request's route, outcome and duration in the operator's
AWS account (Amazon CloudWatch Logs, or Elastic Beanstalk's logs). Logs never hold access tokens,
authorization codes, linking states, secrets or query strings.</p>

<h2>Sharing</h2>
<p>Your data is not sold, shared with third parties or used for advertising. It flows only between
Amazon (Alexa), Google (sign-in and the SDM API) and the operator's AWS account, as described above.</p>

<h2>Unlinking and revoking access</h2>
<ul>
<li>Disable the skill or unlink your account in the Alexa app (Skills, then this skill, then Disable
Skill or Unlink): Alexa deletes its copy of the token.</li>
<li>Revoke the skill's access at Google: in your Google Account's security settings under third-party
access, or in the Google Home app's partner connections (Works with Google / Device Access), remove
this skill's project. The token then stops working at once.</li>
<li>Without a refresh, the access token expires on its own within one hour in the implicit linking mode.</li>
</ul>

<h2>Contact and changes</h2>
<p>{contact}</p>
<p>Changes to this policy are published at this address, with a new date at the top.</p>
"""

_READS_ONLY_WHEN_ASKED = "It does not poll or read anything otherwise."
_STORES_NOTHING = "<p>Nothing about you is stored by the skill, except"
_LIVE_STATE_READS = (
    "It does not poll, and reads nothing otherwise except as described under \u201cChanges "
    "shown in the Alexa app\u201d below."
)
_LIVE_STATE_STORES = "<p>Besides what the next section describes, nothing about you is stored by the skill, except"
LIVE_STATE_SECTION = """
<h2>Changes shown in the Alexa app</h2>
<p>This copy of the skill keeps the Alexa app up to date when a thermostat changes. For that it stores,
for each person who links an account, in a database (Amazon DynamoDB) in the operator's AWS account:
the credentials Amazon issues for sending these updates to Alexa on your behalf (a Login with Amazon
access token and refresh token, encrypted with a key in the operator's AWS Key Management Service),
the Alexa region that serves you, and the identifiers of the thermostats you see. The record is filed
under a one-way hash of your Google account's identifier, never the identifier itself. When you link
your account, the skill asks Google which Google account the token belongs to and lists your
thermostats; after a change, it sends Alexa the thermostat's new state.</p>
<p>This is kept until you disable the skill or unlink your account. The next time the skill then
tries to send Alexa a change of one of your thermostats, Alexa refuses it and the skill deletes your
credentials and your list of thermostats; what remains is the hashed identifier, your Alexa region
and a note that the account must be linked again before updates resume.</p>
"""
"""/privacy's account of live state, shown only when it is on (config.live_state)."""

NO_CONTACT = (
    "This copy's operator has not published a contact address. Ask the person who set up this skill "
    "for you; if you set it up yourself, you are its operator and hold all of its data."
)
"""What /privacy says without PRIVACY_CONTACT: most copies serve one household, set up by one of its members."""


def privacy_policy(contact: str | None, live_state: bool) -> str:
    """The privacy policy naming `contact` (an email address or an https URL, checked by config.py);
    with `live_state`, what live state stores and reads (LIVE_STATE_SECTION)."""
    if contact is None:
        line = html.escape(NO_CONTACT)
    else:
        href = contact if contact.startswith("https://") else f"mailto:{contact}"
        line = (
            f"Questions about your data or this policy go to the operator of this copy of the skill: "
            f'<a href="{html.escape(href)}">{html.escape(contact)}</a>.'
        )
    policy = _PRIVACY_POLICY
    if live_state:
        policy = (
            policy.replace(_READS_ONLY_WHEN_ASKED, _LIVE_STATE_READS)
            .replace(_STORES_NOTHING, _LIVE_STATE_STORES)
            .replace("\n<h2>Logs</h2>", LIVE_STATE_SECTION + "\n<h2>Logs</h2>")
        )
    return _document("Home Thermostat: privacy policy", _UPDATED_LINE + policy.replace("{contact}", line))


TERMS_OF_USE = _document(
    "Home Thermostat: terms of use",
    _UPDATED_LINE
    + """
<p>Home Thermostat is an Alexa skill that reads and sets Google Nest thermostats through Google's Smart
Device Management (SDM) API. It is open-source software, deployed and operated by whoever set up this
copy of it in their own Amazon Web Services account (the operator).</p>

<h2>Using the skill</h2>
<ul>
<li>You may use the skill with thermostats in a Google account you are allowed to control. Linking
grants it access only to the homes and thermostats you choose at Google's sign-in.</li>
<li>The skill acts only on what you ask. When a request could mean more than one thermostat, it asks
which one rather than guessing.</li>
<li>Temperatures, modes and limits are those your thermostat and Google report; the skill does not
override the thermostat's own safety limits or schedules beyond the setpoint you ask for.</li>
</ul>

<h2>No warranty</h2>
<p>The software is provided "as is", without warranty of any kind, as stated in its open-source licence.
It depends on Amazon Alexa, Google's services and AWS, any of which may be unavailable or change. Do not
rely on it where a wrong or missed temperature change could harm people, animals or property; use your
thermostat's own controls for that.</p>

<h2>Liability</h2>
<p>To the extent the law allows, neither the operator nor the authors of the software are liable for
damages arising from its use or from its being unavailable.</p>

<h2>Your data</h2>
<p>How your data is handled is described in the privacy policy at <a href="privacy">/privacy</a> on this
same service. You can stop using the skill at any time: disable it or unlink your account in the Alexa
app, and revoke its access in your Google Account.</p>

<h2>Changes</h2>
<p>The operator may change these terms; changes are published at this address.</p>
""",
)
