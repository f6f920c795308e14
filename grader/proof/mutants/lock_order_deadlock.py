"""lock-order-deadlock: products locked in the order the request lists them."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "lock-order-deadlock",
    "items taken in the client's order, so crossed baskets lock rows in opposite orders",
    (
        Edit(
            "app/orders.py",
            "    wanted = sorted(body.items, key=lambda item: item.product_id)\n",
            "    wanted = list(body.items)\n",
        ),
    ),
)
