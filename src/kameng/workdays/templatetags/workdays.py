from django import template

from kameng.workdays.calendar import calendar_warning as _warning

register = template.Library()


@register.simple_tag
def calendar_warning():
    return _warning()
