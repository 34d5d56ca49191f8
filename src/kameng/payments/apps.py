from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """The gateway adapter and its sandbox, payments, top-ups, gateway refunds and callbacks.

    Below orders: it tells orders about money for an order through `payments.hooks`, never an import.
    """

    name = "kameng.payments"
    label = "payments"

    def ready(self):
        # Wired here, so the sandbox does not import the code its callbacks run (no import cycle).
        from .gateway import register
        from .sandbox import SandboxGateway
        from .tasks import send_sandbox_callback

        register(SandboxGateway(notify=send_sandbox_callback.enqueue))
