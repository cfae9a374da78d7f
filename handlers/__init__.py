"""Slack listeners, one file per domain. Each listener is a named function that stays thin
(parse, authorise, call a service, render); each file's `register` says what it listens to.

Bolt passes a listener what it names: Slack's own arguments (ack, command, action, view,
respond, client, ...) and what bot.app's middleware puts in the context: `ctx` (who is asking,
where and when), `db` and `settings`."""
from handlers import admin, home, imports, indicators, installs, items, letters, meetings, updates, watch


def register(app) -> None:
    for domain in (items, admin, meetings, letters, imports, indicators, updates, watch, home, installs):
        domain.register(app)
