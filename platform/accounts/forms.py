"""Forms of the login steps: the login forms of every end (one message for an unknown user and a
wrong password), the password change, the one-time-password step."""
from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

# The same text whether the username exists or not: the page must not tell which.
INVALID_LOGIN = "用户名或密码错误。"


class LoginForm(AuthenticationForm):
    """H5 and third-party H5 login."""

    error_messages = {**AuthenticationForm.error_messages, "invalid_login": INVALID_LOGIN}


class AdminLoginForm(AdminAuthenticationForm):
    """PC login (/admin/login/): a non-staff account gets the same message too."""

    error_messages = {**AdminAuthenticationForm.error_messages, "invalid_login": INVALID_LOGIN}


class ChangePasswordForm(PasswordChangeForm):
    """Old password, new password twice; the validators in AUTH_PASSWORD_VALIDATORS apply, and
    the new password may not be the current one (even when the history predates the validator)."""

    def clean(self):
        password = self.cleaned_data.get("new_password1")
        if password and self.user.check_password(password):  # the clearer message first
            self.add_error("new_password2", forms.ValidationError(
                "新密码不能与当前密码相同。", code="password_unchanged"))
            return self.cleaned_data
        return super().clean()

    def save(self, commit=True):
        self.user.must_change_password = False
        return super().save(commit)


class TokenForm(forms.Form):
    token = forms.CharField(label="动态口令", min_length=6, max_length=8, strip=True,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                          "inputmode": "numeric", "autofocus": True}),
                            error_messages={"required": "请输入动态口令。",
                                            "min_length": "动态口令为 6 位数字。",
                                            "max_length": "动态口令为 6 位数字。"})

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError("动态口令为 6 位数字。", code="invalid")
        return token
