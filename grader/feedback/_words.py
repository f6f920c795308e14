"""What each catalogued problem looks like from outside, in the words of the incident review the candidate
read (CANDIDATE.md). Only symptoms: never the cause, a fix, an identifier or a number of ours, so that the
feedback teaches without giving the next candidate the answers (the kit's leak check is run on it)."""

from __future__ import annotations

# id -> (what held, what did not hold)
SYMPTOMS: dict[str, tuple[str, str]] = {
    "sync-db-driver": (
        "With a slow database, other requests and the health check kept being answered promptly.",
        "With a slow database, the whole service froze in bursts, health checks included.",
    ),
    "no-connection-pool": (
        "Reads reused database connections instead of opening new ones.",
        "Reads caused connection storms at the database.",
    ),
    "missing-await": (
        "Every order we placed had its audit entry.",
        "Orders were left without an audit entry.",
    ),
    "cpu-bound-in-async": (
        "Checkout traffic did not slow down the rest of the service.",
        "While orders were being placed, every other request (the health check too) waited.",
    ),
    "blocking-sleep": (
        "When the payments provider dropped connections, the rest of the service stayed responsive.",
        "When the payments provider dropped connections, the whole service froze for moments at a time.",
    ),
    "no-upstream-timeout": (
        "When the payments provider stopped answering, checkout still answered in bounded time.",
        "When the payments provider stopped answering, checkout hung with it.",
    ),
    "no-upstream-retry": (
        "A short burst of errors at the payments provider did not fail orders that could have gone through.",
        "A short burst of errors at the payments provider failed orders that should have gone through.",
    ),
    "http-client-per-request": (
        "Calls to the payments provider reused their connections.",
        "Every call to the payments provider opened a new connection.",
    ),
    "n-plus-one": (
        "A customer's order history stayed quick however many orders they had.",
        "A customer's order history got slower with every order they had, even when the shop was quiet.",
    ),
    "sync-bridge-deadlock": (
        "Orders shown in another currency came back quickly.",
        "Orders shown in another currency were slow, and the service stalled meanwhile.",
    ),
    "connection-leak-on-error": (
        "After failed orders, no database connection was left hanging.",
        "After failed orders, connections stayed held without being used.",
    ),
    "no-input-validation": (
        "Malformed orders were turned away cleanly and left nothing behind.",
        "Malformed orders got server errors or left strange data behind.",
    ),
    "no-request-metrics": (
        "Operators could see latency and errors per endpoint.",
        "There were no numbers for latency or errors per endpoint.",
    ),
    "resources-outside-lifespan": (
        "The service started and stopped cleanly, releasing what it held.",
        "Starting and stopping the service was not clean: what it held was not set up and released with it.",
    ),
    "resources-at-import": (
        "What the service holds was set up when it started, not when its code was loaded.",
        "What the service holds was set up when its code was loaded, not when it started.",
    ),
    "resources-not-released": (
        "On shutdown the service let go of what it held, cleanly.",
        "On shutdown the service dropped what it held instead of releasing it.",
    ),
    "notification-lost": (
        "Every order confirmation arrived, also when the confirmation service failed or the service restarted.",
        "Order confirmations went missing when the confirmation service failed or the service restarted.",
    ),
    "last-unit-race": (
        "When many shoppers bought the last units at once, exactly the stock was sold.",
        "When many shoppers bought the last units at once, some got server errors or stock went wrong.",
    ),
    "lock-order-deadlock": (
        "Baskets sharing products, placed at the same moment, all went through.",
        "Baskets sharing products, placed at the same moment, failed.",
    ),
    "new-customer-race": (
        "A new customer's simultaneous first orders all went through.",
        "A new customer's simultaneous first orders failed with server errors.",
    ),
    "orphan-charge": (
        "Orders that failed while the payments provider was down left no customer charged.",
        "Orders that failed while the payments provider was down left customers charged.",
    ),
    "notification-inline": (
        "A slow confirmation service did not slow down checkout.",
        "Checkout was as slow as the confirmation service.",
    ),
}
GENERIC = ("This part held up in our tests.", "This part did not hold up in our tests.")
