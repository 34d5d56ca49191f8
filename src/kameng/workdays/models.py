from django.db import models
from django.utils.translation import gettext_lazy as _


class DeadlineUnit(models.TextChoices):
    """How a deadline's amount is counted: on the clock, or on the Chinese working calendar."""

    HOURS = "hours", _("小时")
    WORKING_DAYS = "working_days", _("工作日")


class CalendarDay(models.Model):
    """An administrator's word on one date; it wins over the package and the weekend rule."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("管理员更正")
        IMPORT = "import", _("整年载入")

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=64, blank=True, help_text=_("例如：春节、国庆节调休"))
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.ADMIN)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("日历日")
        verbose_name_plural = _("日历日（更正与载入）")

    def __str__(self) -> str:
        kind = _("上班") if self.is_workday else _("休息")
        return f"{self.date:%Y-%m-%d} {kind} {self.name}".strip()


class CalendarYear(models.Model):
    """A year whose full holiday schedule an administrator has loaded, so the system trusts it."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("已载入年份")
        verbose_name_plural = _("已载入年份")

    def __str__(self) -> str:
        return str(self.year)
