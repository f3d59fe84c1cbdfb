from lowcode import registry


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
