"""Editing 《虚拟商品退款条款》: an edit is a new version and the old one is retired, so every past
decision still points at the exact text it used."""

from django.db import transaction

from ..models import Clause


@transaction.atomic
def save_clause(
    *, number: int, title: str, body: str, params: dict, editing: Clause | None = None
) -> Clause | None:
    """Make `title`, `body` and `params` the current version of clause `number`. With `editing`
    (the version an administrator changed), an unchanged text saves nothing and returns None.
    Returns the new current version."""
    if editing is not None:
        old = Clause.objects.select_for_update().get(pk=editing.pk)
        if (old.title, old.body, old.params) == (title, body, params):
            return None
        number = old.number
    latest = Clause.objects.select_for_update().filter(number=number).order_by("-version").first()
    Clause.objects.filter(number=number, is_current=True).update(is_current=False)
    return Clause.objects.create(
        number=number,
        version=latest.version + 1 if latest else 1,
        title=title,
        body=body,
        params=params,
        is_current=True,
    )
