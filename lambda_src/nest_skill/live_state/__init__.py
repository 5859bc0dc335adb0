"""Live state: the smart-home endpoints report their changes to Alexa (`Alexa.ChangeReport` to the
event gateway) instead of waiting to be asked (ReportState).

- `config`: whether live state is on (LIVE_STATE_TABLE set) and where its parts are;
- `lwa`: Login with Amazon, the skill's Alexa Skill Messaging credentials exchanging AcceptGrant's
  code and refreshing a user's tokens;
- `store`: the token table (DynamoDB), each user's tokens encrypted with the table's KMS key before
  they are written;
- `gateway`: the event gateway of the user's region, its answers classified once;
- `reporter`: AcceptGrant and ChangeReports, over the three, bounded by the request's deadline.

Nothing here is imported while live state is off, and boto3 (the Lambda runtime's) is imported
only when a report or an AcceptGrant first needs AWS: a cold start with live state off is today's.
"""
