"""Blueprints: health, the JSON API v1 and the web UI."""
