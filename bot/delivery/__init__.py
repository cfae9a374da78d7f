"""Getting messages to Slack exactly once: the outbox, the lease, the dispatcher."""
from bot.delivery.outbox import THREAD_AFTER, enqueue, enqueue_many  # noqa: F401
