"""OAuth bridge for Alexa implicit-grant account linking with Google Nest (SDM).

Alexa (implicit grant) sends the user to `/authorize`; the bridge sends them on to Google with its
own `/callback` as the redirect URI, exchanges Google's code for a token with the client secret read
from the encrypted S3 properties object, and hands the token to Alexa in the redirect's fragment.
The core is framework-free (`app.Bridge`: Request -> Response); `lambda_function.py` and
`application.py` adapt it to Lambda events and WSGI.
"""
