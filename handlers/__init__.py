"""Slack listeners. Each stays thin: parse, authorise, call a service, render."""
from handlers import actions, commands, events, views
from handlers import letters
from handlers import reminders
from handlers import meetings
from handlers import imports


def register(app, deps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    events.register(app, deps)
    letters.register(app, deps)
    reminders.register(app, deps)
    meetings.register(app, deps)
    imports.register(app, deps)
