"""HTTP routes, one APIRouter per resource; each router carries its own prefix (the metrics label)."""
