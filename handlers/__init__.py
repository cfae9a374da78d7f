"""Slack listeners. Each stays thin: parse, authorise, call a service, render."""
from handlers import actions, commands, events, views


def register(app, deps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    events.register(app, deps)
