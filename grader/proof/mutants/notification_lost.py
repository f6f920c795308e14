"""notification-lost: the confirmation sent from a task kept in a set, not from the drained queue.

The design the catalogue accepts for notification-inline (off the request, references kept, retried),
so that verdict stays fixed; but nothing waits for the task on shutdown, so SIGTERM loses it.
"""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "notification-lost",
    "asyncio.create_task(notifier._deliver(...)) kept in a module-level set instead of notifier.enqueue",
    (
        Edit(
            "app/routes/orders.py",
            "from decimal import ROUND_HALF_UP, Decimal\n",
            "import asyncio\nfrom decimal import ROUND_HALF_UP, Decimal\n",
        ),
        Edit(
            "app/routes/orders.py",
            "_CENT = Decimal(\"0.01\")\n",
            "_CENT = Decimal(\"0.01\")\n_SENDING: set[asyncio.Task[None]] = set()\n",
        ),
        Edit(
            "app/routes/orders.py",
            "    notifier.enqueue(Notification(order.id, order.customer_email, order.total_cents))\n",
            "    task = asyncio.create_task(\n"
            "        notifier._deliver(Notification(order.id, order.customer_email, order.total_cents))\n"
            "    )\n"
            "    _SENDING.add(task)\n"
            "    task.add_done_callback(_SENDING.discard)\n",
        ),
    ),
)
