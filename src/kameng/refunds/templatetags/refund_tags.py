"""Template helpers for pages outside the refunds app (the order page's 申请退款 / 退款进度 link)."""

from django import template

from kameng.refunds import selectors

register = template.Library()


@register.simple_tag
def open_refund_case(order):
    return selectors.open_case_for_order(order)


@register.simple_tag
def order_refund_cases(order):
    """Every refund case of the order, first filed first (the order page links each)."""
    return list(selectors.cases_of_order(order))


@register.filter
def refundable(order) -> bool:
    return selectors.may_request_refund(order)
