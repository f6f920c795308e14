"""notification-inline: the order confirmation delivered (with its retries) before the order is answered."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "notification-inline",
    "await the notifier's delivery in the request instead of enqueueing it",
    (
        Edit(
            "app/routes/orders.py",
            "    notifier.enqueue(Notification(order.id, order.customer_email, order.total_cents))\n",
            "    await notifier._deliver(Notification(order.id, order.customer_email, order.total_cents))\n",
        ),
    ),
)
