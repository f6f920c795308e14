"""n-plus-one: a customer's orders loaded without their items, then one items query per order."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "n-plus-one",
    "no selectinload for a customer's orders; items queried once per order",
    (
        Edit(
            "app/orders.py",
            "from sqlalchemy.orm import selectinload\n",
            "from sqlalchemy.orm import selectinload\nfrom sqlalchemy.orm.attributes import set_committed_value\n",
        ),
        Edit(
            "app/orders.py",
            "    .order_by(Order.created_at.desc(), Order.id.desc())\n"
            "    .options(selectinload(Order.items))  # one IN query for every order's items: no N+1\n",
            "    .order_by(Order.created_at.desc(), Order.id.desc())\n",
        ),
        Edit(
            "app/orders.py",
            '    orders = await session.scalars(_CUSTOMER_ORDERS, {"customer_id": customer_id})\n'
            "    return [OrderPublic.from_order(order, email) for order in orders]\n",
            '    orders = (await session.scalars(_CUSTOMER_ORDERS, {"customer_id": customer_id})).all()\n'
            "    for order in orders:\n"
            "        items = await session.scalars(\n"
            "            select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)\n"
            "        )\n"
            '        set_committed_value(order, "items", list(items))\n'
            "    return [OrderPublic.from_order(order, email) for order in orders]\n",
        ),
    ),
)

VARIANTS = (
    Mutant(
        "n-plus-one",
        "the same N+1 behind a response cache of each customer's history, dropped when they order",
        (
            *MUTANT.edits,
            Edit(
                "app/orders.py",
                "async def load_customer_orders(session: AsyncSession, email: str) -> list[OrderPublic]:\n",
                "_HISTORIES: dict[str, list[OrderPublic]] = {}\n\n\n"
                "async def load_customer_orders(session: AsyncSession, email: str) -> list[OrderPublic]:\n"
                '    """A customer\'s orders, cached until they order again."""\n'
                "    if email not in _HISTORIES:\n"
                "        _HISTORIES[email] = await _load_customer_orders(session, email)\n"
                "    return _HISTORIES[email]\n\n\n"
                "async def _load_customer_orders(session: AsyncSession, email: str) -> list[OrderPublic]:\n",
            ),
            Edit(
                "app/orders.py",
                "    return OrderPublic(\n        id=order_id, customer_email=body.customer_email,",
                "    _HISTORIES.pop(body.customer_email, None)\n"
                "    return OrderPublic(\n        id=order_id, customer_email=body.customer_email,",
            ),
        ),
        variant="cached",
    ),
)
