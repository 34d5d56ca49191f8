from django_tasks import task

from .services import deliver_waiting_orders, retry_delivery


@task()
def retry_delivery_task(order_id: int) -> str:
    return retry_delivery(order_id=order_id).status


@task()
def deliver_waiting_orders_task(product_id: int) -> int:
    return deliver_waiting_orders(product_id=product_id)
