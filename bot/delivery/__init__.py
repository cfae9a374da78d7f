"""Getting messages to Slack exactly once: the outbox, the lease, the dispatcher."""
from bot.delivery.outbox import enqueue, enqueue_many  # noqa: F401
