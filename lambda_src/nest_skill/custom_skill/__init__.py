"""The custom-skill front door: Alexa's custom skill requests ("Alexa, ask home thermostat ...") for
the same thermostats the smart-home door serves, over the same domain (thermostats, controls,
account, sdm_client).

`handlers` holds one ask-sdk-core handler class per intent and request type, `slots` reads what
Alexa heard, `session` carries a half-finished request across turns ("which thermostat?"),
`speech` says it all in words, and `interceptors` writes one log line per request.
"""
