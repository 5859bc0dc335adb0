"""The smart-home front door: Alexa Smart Home API v3 directives for the same thermostats the custom
skill serves, over the same domain (thermostats, controls, account, sdm_client).

`dispatcher.SmartHome.handle` takes a directive event and always returns one response event:
`endpoints` describes thermostats as Alexa endpoints and their state, `messages` builds the events,
`errors` maps what the domain knows to Alexa's error types, once.
"""
