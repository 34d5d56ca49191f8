from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from .models import User


class RegisterForm(forms.Form):
    username = forms.RegexField(
        label=_("用户名"),
        max_length=30,
        min_length=3,
        regex=r"^[A-Za-z0-9_]+$",
        error_messages={"invalid": _("用户名只能包含字母、数字和下划线。")},
    )
    phone = forms.RegexField(
        label=_("手机号"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("请输入 11 位手机号。")},
    )
    email = forms.EmailField(
        label=_("邮箱"),
        required=False,
        help_text=_("选填，忘记密码时用它重置。"),
        error_messages={"invalid": _("请输入有效的邮箱地址。")},
    )
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput, strip=False)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("该用户名已被注册。"))
        return username

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            try:
                password_validation.validate_password(p1, User(username=data.get("username", "")))
            except forms.ValidationError as e:
                self.add_error("password1", e)
        return data


class NoticePreferencesForm(forms.Form):
    email_notices = forms.BooleanField(label=_("通过邮件接收通知"), required=False)
    language = forms.ChoiceField(
        label=_("邮件语言"), choices=[("zh-hans", "简体中文"), ("en", "English")], initial="zh-hans"
    )
