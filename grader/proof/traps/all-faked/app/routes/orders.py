from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.catalogue import products as products_by_id
from app.routes.customers import history_cache
from app.db import SessionLocal, get_session
from app.models import ApiKey, Customer, Order, OrderItem, Product
from app.notifications import notify_order_created
from app.payments import PaymentError, charge
from app.rates import UnknownCurrencyError, convert_total
from app.schemas import Conversion, OrderDetail, OrderOut
from app.security import require_api_key

router = APIRouter(prefix="/orders", tags=["orders"])


def get_or_create_customer(session: Session, email: str) -> Customer:
    """The customer with this e-mail address, created if it is new."""
    customer = session.scalars(select(Customer).where(Customer.email == email)).first()
    if customer is None:
        customer = Customer(email=email)
        session.add(customer)
        session.flush()
    return customer


@router.post("", status_code=201, response_model=OrderOut)
async def create_order(request: Request, api_key: ApiKey = Depends(require_api_key)) -> OrderOut:
    """Place an order: reserve stock, charge the customer and record the order."""
    payload = await request.json()
    email = payload["customer_email"]

    session = SessionLocal()

    catalogue = products_by_id()
    for line in payload["items"]:
        known = catalogue.get(line["product_id"])
        if known is not None and known["stock"] < line["quantity"]:
            raise HTTPException(status_code=409, detail=f"Not enough stock for product {line['product_id']}")

    products: dict[int, Product] = {}
    for line in payload["items"]:
        product_id = line["product_id"]
        product = session.get(Product, product_id)
        if product is None:
            session.rollback()
            session.close()
            raise HTTPException(status_code=404, detail=f"Product {product_id} not found")
        if product.stock < line["quantity"]:
            raise HTTPException(status_code=409, detail=f"Not enough stock for product {product_id}")
        products[product_id] = product

    customer = get_or_create_customer(session, email)

    total_cents = 0
    items: list[OrderItem] = []
    for line in payload["items"]:
        product = products[line["product_id"]]
        quantity = line["quantity"]
        session.execute(
            update(Product).where(Product.id == product.id).values(stock=Product.stock - quantity)
        )
        items.append(
            OrderItem(product_id=product.id, quantity=quantity, unit_price_cents=product.price_cents)
        )
        total_cents += quantity * product.price_cents

    order = Order(customer=customer, status="paid", currency="USD", total_cents=total_cents, items=items)
    session.add(order)
    session.flush()

    try:
        order.payment_id = await charge(total_cents, email)
    except PaymentError as exc:
        session.rollback()
        session.close()
        raise HTTPException(status_code=502, detail="Payment failed") from exc

    session.commit()
    record_audit(
        order.id,
        "order.created",
        {"api_key": api_key.name, "total_cents": total_cents, "payment_id": order.payment_id},
    )
    result = OrderOut.from_order(order, customer.email)
    session.close()

    history_cache.pop(customer.email, None)
    notify_order_created(order.id, customer.email, total_cents)
    return result


@router.get("/{order_id}", response_model=OrderDetail, response_model_exclude_none=True)
async def get_order(
    order_id: int,
    currency: str | None = Query(default=None, pattern="^[A-Z]{3}$"),
    session: Session = Depends(get_session),
) -> OrderDetail:
    """An order with its items, optionally with its total converted to another currency."""
    order = session.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="Order not found")

    detail = OrderDetail.from_order(order, order.customer.email)
    if currency is not None:
        try:
            rate, total = convert_total(order.total_cents, currency)
        except UnknownCurrencyError as exc:
            raise HTTPException(status_code=422, detail=f"Unknown currency {currency}") from exc
        detail.converted = Conversion(currency=currency, rate=str(rate), total=str(total))
    return detail
