from django.conf import settings
from django.http import HttpResponse
from django.utils.html import escape

from lowcode import registry


class QueryLengthMiddleware:
    """A query-string value longer than QUERY_VALUE_MAX_LENGTH (default 1000 characters) is
    answered with 400 and a Chinese message: no search or filter ever builds a LIKE pattern
    SQLite refuses ("pattern too complex" → 500) or scans the tables for a 100,000-character term."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = int(getattr(settings, "QUERY_VALUE_MAX_LENGTH", 1000))
        for name, values in request.GET.lists():
            if len(name) > limit or any(len(v) > limit for v in values):
                text = f"查询条件过长（单项超过 {limit} 个字），请缩短后重试。"
                return HttpResponse(f"<!doctype html><meta charset=\"utf-8\"><title>查询条件过长</title>"
                                    f"<p role=\"alert\">{escape(text)}</p><p><a href=\"javascript:history.back()\">返回</a></p>",
                                    status=400, content_type="text/html; charset=utf-8")
        return self.get_response(request)


class MetadataVersionMiddleware:
    """Reads the metadata version once per request (one indexed single-row query), so every
    get_meta() in the request agrees and none of them hits the metadata tables."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = registry.pin_version_for_request()
        try:
            return self.get_response(request)
        finally:
            registry.unpin_version(token)
