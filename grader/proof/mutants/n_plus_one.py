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
