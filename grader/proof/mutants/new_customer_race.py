"""new-customer-race: the customer looked up, then inserted with no conflict handling."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "new-customer-race",
    "select-then-insert for a new customer: concurrent first orders break the unique e-mail",
    (
        Edit(
            "app/orders.py",
            "            pg_insert(Customer).values(email=email)"
            ".on_conflict_do_nothing(index_elements=[Customer.email])\n"
            "            .returning(Customer.id)\n",
            "            pg_insert(Customer).values(email=email).returning(Customer.id)\n",
        ),
    ),
)
