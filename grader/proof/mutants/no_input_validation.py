"""no-input-validation: POST /orders reads the raw JSON and builds its model without validating it."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "no-input-validation",
    "`await request.json()` and OrderCreate.model_construct(...) instead of a validated body",
    (
        Edit(
            "app/routes/orders.py",
            "from fastapi import APIRouter, Query, status\n",
            "from fastapi import APIRouter, Query, Request, status\n",
        ),
        Edit(
            "app/routes/orders.py",
            "from app.schemas import BigIntId, ConvertedTotal, CurrencyCode, OrderCreate, OrderPublic\n",
            "from app.schemas import BigIntId, ConvertedTotal, CurrencyCode, OrderCreate, OrderPublic\n"
            "from app.schemas import OrderItemCreate\n",
        ),
        Edit(
            "app/routes/orders.py",
            "    body: OrderCreate,\n    api_key: ApiKeyDep,\n",
            "    request: Request,\n    api_key: ApiKeyDep,\n",
        ),
        Edit(
            "app/routes/orders.py",
            "    async with order_slots.slot():\n",
            "    payload = await request.json()\n"
            "    body = OrderCreate.model_construct(\n"
            '        customer_email=payload["customer_email"],\n'
            '        items=[OrderItemCreate.model_construct(**line) for line in payload["items"]],\n'
            "    )\n"
            "    async with order_slots.slot():\n",
        ),
    ),
)
