from django_tasks import task


@task()
def fire_deadline_task(deadline_id: int) -> str:
    from .services import fire_deadline

    return fire_deadline(deadline_id=deadline_id)


@task()
def gateway_refund_task(payout_id: int) -> str:
    from .services import complete_gateway_refund

    return complete_gateway_refund(payout_id=payout_id)


@task()
def recheck_supplier_task(case_id: int) -> str:
    from .services import recheck_supplier

    return recheck_supplier(case_id=case_id)
