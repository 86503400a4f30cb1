"""Pure matching engine: uniform-price call auctions and zonal clearing with transfer limits.

No I/O, no clock, no randomness: the same book and rules give the same result, bit for bit.
See docs/matching.md for the rules.
"""

from ._canon import (
    book_hash,
    book_to_json,
    canonical_bytes,
    result_hash,
    result_to_json,
    rules_to_json,
)
from ._clear import ArrayResult, Book, clear, clear_book, curves, validate, validate_book
from ._types import (
    MAX_PRICE,
    MAX_QUANTITY,
    ClearingResult,
    Curves,
    Fill,
    Flow,
    InvalidBook,
    Link,
    Order,
    Rules,
    Side,
)

__all__ = [
    "MAX_PRICE",
    "MAX_QUANTITY",
    "ArrayResult",
    "Book",
    "ClearingResult",
    "Curves",
    "Fill",
    "Flow",
    "InvalidBook",
    "Link",
    "Order",
    "Rules",
    "Side",
    "book_hash",
    "book_to_json",
    "canonical_bytes",
    "clear",
    "clear_book",
    "curves",
    "result_hash",
    "result_to_json",
    "rules_to_json",
    "validate",
    "validate_book",
]
