"""Alexa skill for Nest thermostats through Google's Smart Device Management (SDM) API."""
