"""What each staff role may do in the Django admin. Groups are the roles (SPEC §1); their admin
permissions are kept in step with this table after every migrate."""

from django.contrib.auth.models import Group, Permission

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Catalog, sellers, staff accounts, calendar, policy: everything an administrator runs.
    "admin": [
        "accounts.*",
        "auth.view_group",
        "catalog.*",
        "workdays.*",
        "refunds.*",
        "orders.view_*",
        "inventory.view_*",
        "payments.view_*",
        "wallet.view_*",
        "evidence.view_*",
        "safety.*",
    ],
    # Supervisors edit the refund policy and read every case.
    "supervisor": [
        "refunds.view_*",
        "refunds.add_clause",
        "refunds.change_clause",
        "refunds.add_evidencerule",
        "refunds.change_evidencerule",
        "orders.view_order",
        "safety.view_scamhit",
    ],
    "finance": [
        "refunds.view_payout",
        "payments.view_gatewayrefund",
        "payments.view_payment",
        "wallet.view_*",
    ],
    "agent": ["refunds.view_refundcase", "orders.view_order", "catalog.view_product", "catalog.view_seller"],
}


def _matching(spec: str):
    app, _, codename = spec.partition(".")
    qs = Permission.objects.filter(content_type__app_label=app)
    if codename == "*":
        return qs
    if codename.endswith("*"):
        return qs.filter(codename__startswith=codename[:-1])
    return qs.filter(codename=codename)


def sync_role_permissions(**_kwargs) -> None:
    for role, specs in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = set()
        for spec in specs:
            wanted.update(_matching(spec).values_list("pk", flat=True))
        group.permissions.set(wanted)
