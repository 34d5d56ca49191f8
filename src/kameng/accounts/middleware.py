"""Turn a database that is momentarily too busy into a clear "try again", never a 500."""

import logging

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

MESSAGE = _("系统繁忙，请稍后重试。本次操作没有生效，已保存的内容不会丢失。")


class BusyDatabaseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # SQLite's writer lock timed out (or PostgreSQL refused a connection): the transaction was
        # rolled back, so asking the person to retry is honest and safe.
        text = str(exception).lower()
        if not isinstance(exception, OperationalError) or not (
            "locked" in text or "too many clients" in text or "timeout" in text
        ):
            return None
        log.warning("database busy on %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"detail": str(MESSAGE)}, status=503, json_dumps_params={"ensure_ascii": False}
            )
        else:
            response = HttpResponse(str(MESSAGE), status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "2"
        return response


class RefuseNulMiddleware:
    """A NUL character is never legitimate in a URL or a form field, and PostgreSQL cannot store
    it (it raises, which would be a 500). Refuse such requests up front with a clear 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.get_full_path() or self._form_has_nul(request):
            message = str(_("请求包含无效字符（NUL），未做任何修改。"))
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": message}, status=400, json_dumps_params={"ensure_ascii": False}
                )
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _form_has_nul(request) -> bool:
        if request.method != "POST" or request.content_type not in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            return False
        return any("\x00" in value for values in request.POST.lists() for value in values[1])
