"""Password rules Django doesn't ship: 3 of 4 character classes; the last N passwords not
reused (django-password-validators' history, hashed with SM3, message in Chinese)."""
from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django_password_validators.password_history.password_validation import UniquePasswordsValidator

CLASSES = (
    ("小写字母", lambda c: c in string.ascii_lowercase),
    ("大写字母", lambda c: c in string.ascii_uppercase),
    ("数字", lambda c: c in string.digits),
    ("特殊字符", lambda c: not c.isalnum() and not c.isspace()),
)


class CharacterClassesValidator:
    """At least ``min_classes`` of: lower-case letters, upper-case letters, digits, specials."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        present = sum(1 for _, test in CLASSES if any(test(c) for c in password))
        if present < self.min_classes:
            raise ValidationError(
                "密码须包含大写字母、小写字母、数字、特殊字符中的至少 %(n)d 类。",
                code="password_too_simple", params={"n": self.min_classes})

    def get_help_text(self):
        return f"密码须包含大写字母、小写字母、数字、特殊字符中的至少 {self.min_classes} 类。"


class PasswordHistoryValidator(UniquePasswordsValidator):
    """Not one of the user's last ``last_passwords`` passwords (the history is written by the
    library's password_changed hook on every save after set_password)."""

    def _user_ok(self, user):
        # a user being created has no history yet (the library warns about it; nothing to warn)
        return user is not None and getattr(user, "pk", None) is not None

    def validate(self, password, user=None):
        try:
            super().validate(password, user)
        except ValidationError as exc:
            raise ValidationError(f"不能使用最近 {self.last_passwords} 次用过的密码。",
                                  code="password_used") from exc

    def get_help_text(self):
        return f"不能与最近 {self.last_passwords} 次用过的密码相同。"
