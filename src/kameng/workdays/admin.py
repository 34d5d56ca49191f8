from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from . import services
from .calendar import calendar_warning
from .forms import LoadYearForm
from .models import CalendarDay, CalendarYear


class _WarnWhenUntrusted:
    """Show the calendar warning on the changelist, where the administrator who can fix it looks."""

    def changelist_view(self, request, extra_context=None):
        warning = calendar_warning()
        if warning:
            messages.warning(request, warning)
        return super().changelist_view(request, extra_context)


@admin.register(CalendarDay)
class CalendarDayAdmin(_WarnWhenUntrusted, admin.ModelAdmin):
    list_display = ("date", "is_workday", "name", "source", "updated_at")
    list_filter = ("is_workday", "source")
    search_fields = ("name",)
    date_hierarchy = "date"
    fields = ("date", "is_workday", "name", "source", "updated_at")
    readonly_fields = ("source", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # A row is one date's correction; to move it, delete it and add another.
        return (*self.readonly_fields, "date") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        saved = services.set_calendar_day(day=obj.date, is_workday=obj.is_workday, name=obj.name)
        obj.pk, obj.source, obj.updated_at = saved.pk, saved.source, saved.updated_at

    def delete_model(self, request, obj):
        services.clear_calendar_day(day=obj.date)

    def delete_queryset(self, request, queryset):
        for day in queryset.values_list("date", flat=True):
            services.clear_calendar_day(day=day)


@admin.register(CalendarYear)
class CalendarYearAdmin(_WarnWhenUntrusted, admin.ModelAdmin):
    list_display = ("year", "loaded_at", "note")
    change_list_template = "workdays/admin/calendaryear_change_list.html"
    readonly_fields = ("year", "loaded_at")
    fields = ("year", "note", "loaded_at")

    def has_add_permission(self, request):
        return False  # a year is trusted by loading its schedule, never by adding an empty row

    def get_urls(self):
        load = path(
            "load/",
            self.admin_site.admin_view(self.load_view),
            name="workdays_calendaryear_load",
        )
        return [load, *super().get_urls()]

    def load_view(self, request):
        if not (self.has_change_permission(request) and request.user.has_perm("workdays.add_calendarday")):
            raise PermissionDenied
        form = LoadYearForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                calendar_year, schedule = services.load_year_from_text(
                    year=form.cleaned_data["year"],
                    text=form.cleaned_data["text"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                form.add_error("text", error)
            else:
                messages.success(
                    request,
                    _("已载入 %(year)d 年：%(holidays)d 天放假，%(workdays)d 天调休上班。")
                    % {
                        "year": calendar_year.year,
                        "holidays": len(schedule.holidays),
                        "workdays": len(schedule.workdays),
                    },
                )
                return redirect(reverse("admin:workdays_calendaryear_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("载入全年放假安排"),
            "form": form,
            "warning": calendar_warning(),
        }
        return TemplateResponse(request, "workdays/admin/load_year.html", context)
