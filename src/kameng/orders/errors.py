"""What the shop refuses, and why (orders.services raises these; pages and the API answer them)."""


class OrderError(Exception):
    """A request the shop refuses; the message is for the user, in their language. `field` names
    the checkout field it is about (the page shows it there), or "" for the whole request."""

    field = ""

    def __init__(self, message, *, field: str = ""):
        super().__init__(message)
        self.field = field or self.field


class TermsError(OrderError):
    """The buyer did not confirm the product's refund terms (or confirmed ones since replaced):
    the API answers 422, like its other refusals of what the request itself says."""

    field = "accept_terms"


class QuantityError(OrderError):
    """More pieces than the product's 每单限购 (Product.max_per_order, itself at most
    catalog.services.MAX_PER_ORDER, the bound the API schema states): the API answers 422, as it
    does for a quantity above the schema's bound."""

    field = "quantity"
