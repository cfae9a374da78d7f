"""Scrutineer: recommendation and action tracking for scrutiny committees, in Slack."""
