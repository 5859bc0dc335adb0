"""OAuth bridge for Alexa implicit-grant account linking with Google Nest (SDM).

Alexa (implicit grant) sends the user to `/authorize`; the bridge sends them on to Google with its
own `/callback` as the redirect URI and a state sealed to that browser, exchanges Google's code for a
token with the client secret read from the encrypted S3 properties object, and hands the token (or the
failure) to Alexa in the redirect's fragment. The core (`app.Bridge`) is a Werkzeug WSGI application;
`application.py` serves it as is and `lambda_function.py` adapts Lambda events to it. It also serves
the skill's privacy policy and terms of use (`/privacy`, `/terms`).
"""
