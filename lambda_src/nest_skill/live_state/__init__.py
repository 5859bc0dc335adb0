"""Live state: the smart-home endpoints report their changes to Alexa (`Alexa.ChangeReport` to the
event gateway) instead of waiting to be asked (ReportState).

- `config`: whether live state is on (LIVE_STATE_TABLE set) and where its parts are;
- `lwa`: Login with Amazon, the skill's Alexa Skill Messaging credentials exchanging AcceptGrant's
  code and refreshing a user's tokens;
- `store`: the token table (DynamoDB), each user's tokens encrypted with the table's KMS key before
  they are written;
- `gateway`: the event gateway of the user's region, its answers classified once;
- `reporter`: AcceptGrant and ChangeReports, over the three, bounded by the request's deadline;
- `on_first_use`: the skill container's live state, built (and the modules above loaded) at the
  first request that uses it (an AcceptGrant, a Discover, a change to report), not at import.

While live state is off the skill loads nothing of it but this package's `live_state_on` check.
While it is on, the skill reads `config` at import and loads the rest at the first request that
needs it; boto3 (the Lambda runtime's) only when a report or an AcceptGrant first needs AWS.
"""

from collections.abc import Mapping

TABLE_VARIABLE = "LIVE_STATE_TABLE"


def live_state_on(env: Mapping[str, str]) -> bool:
    """Whether live state is on: LIVE_STATE_TABLE is set and not blank (the stacks set it when
    `live_state` is on; config.LiveStateConfig reads and checks the rest of live state's settings)."""
    return bool(env.get(TABLE_VARIABLE, "").strip())
