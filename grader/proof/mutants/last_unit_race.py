"""last-unit-race: the stock read, compared, then decremented without a guard."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "last-unit-race",
    "check-then-update: the stock is read and compared before an unguarded decrement",
    (
        Edit(
            "app/orders.py",
            "    price: int | None = await session.scalar(\n"
            "        update(Product)\n"
            "        .where(Product.id == product_id, Product.stock >= quantity)\n"
            "        .values(stock=Product.stock - quantity)\n"
            "        .returning(Product.price_cents),\n"
            "        execution_options=_NO_SYNC,\n"
            "    )\n"
            "    if price is not None:\n"
            "        return price\n",
            "    wanted = select(Product.stock, Product.price_cents).where(Product.id == product_id)\n"
            "    row = (await session.execute(wanted)).first()\n"
            "    if row is not None and row.stock >= quantity:\n"
            "        await session.execute(\n"
            "            update(Product).where(Product.id == product_id).values(stock=Product.stock - quantity),\n"
            "            execution_options=_NO_SYNC,\n"
            "        )\n"
            "        return int(row.price_cents)\n",
        ),
    ),
)
