"""The periodic tick: finds what is due with indexed queries and hands it to background tasks."""

import logging

from django.utils import timezone

log = logging.getLogger(__name__)


def tick(now=None) -> dict:
    from kameng.orders.rechecks import due_topup_rechecks
    from kameng.orders.services import expire_pending_orders
    from kameng.orders.tasks import retry_delivery_task
    from kameng.payments.gateway import get_gateway

    now = now or timezone.now()
    done = {"expired": expire_pending_orders(now)}
    # The sandbox gateway re-sends callbacks we have not acknowledged, like real gateways do.
    try:
        sandbox = get_gateway("sandbox")
    except KeyError:  # KAMENG_SANDBOX off: there is no sandbox to re-send anything
        done["callbacks"] = 0
    else:
        done["callbacks"] = sandbox.resend_unacknowledged()
    # Top-ups whose result was unknown: ask the supplier again, once per attempt, with backoff.
    unknown = due_topup_rechecks(now)
    for order_id in unknown:
        retry_delivery_task.enqueue(order_id)
    done["topups_rechecked"] = len(unknown)
    from kameng.refunds.settlement import settle_due_orders

    done["settled"] = settle_due_orders(now)
    try:
        from kameng.refunds.timers import enqueue_due

        done["deadlines"] = enqueue_due(now)
    except ImportError:
        pass
    from kameng.refunds.reminders import remind_due_soon

    done["deadline_reminders"] = remind_due_soon(now)
    from kameng.support.commitments import fire_due

    done.update(fire_due(now))
    # WeChat: messages whose handling was lost and replies due for another try go to the workers again.
    from kameng.support.wechat_inbox import tick as wechat_tick

    done.update(wechat_tick(now))
    from kameng.support.paychannel.outbox import tick as complaints_tick

    done.update(complaints_tick(now))
    done.update(mail(now))
    # Last: the notices written above go out by email in the same tick once their window is over.
    from kameng.accounts.mail import enqueue_due_mail

    done["notice_mail"] = enqueue_due_mail(now)
    return done


def mail(now) -> dict:
    """The support mailbox: replies out, mails stored but not filed, the IMAP mailbox when set. A
    mailbox that is down is logged and tried again at the next tick; nothing else waits for it."""
    from django.conf import settings

    from kameng.support.mail.imap import fetch_imap
    from kameng.support.mail.inbound import reprocess_pending
    from kameng.support.mail.outbound import send_due

    done = {"mail_sent": send_due(now), "mail_refiled": reprocess_pending()}
    if settings.IMAP_URL:
        try:
            done["mail_fetched"] = fetch_imap()
        except Exception:
            log.exception("could not fetch mail from KAMENG_IMAP_URL")
            done["mail_fetched"] = 0
    return done
