"""Case file downloads. Case attachments are never served from MEDIA_URL: every download goes
through here, which answers 404 unless the attachment's case is in the user's region scope."""
from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from accounts.scope import scope_queryset
from cases.models import Attachment

# shown in the browser; everything else is downloaded (never rendered as a page)
INLINE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf"}


@login_required
def attachment_download(request, pk: int):
    attachment = scope_queryset(request.user, Attachment.objects.filter(pk=pk), "case__region_path").first()
    if attachment is None or not attachment.file:
        raise Http404("附件不存在或无权访问")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("附件文件已丢失") from None
    # the type comes from the stored file's suffix, not from what the uploader's browser claimed
    suffix = PurePosixPath(attachment.file.name).suffix.lower()
    content_type = mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"
    inline = suffix in INLINE_SUFFIXES
    response = FileResponse(handle, as_attachment=not inline, filename=attachment.name,
                            content_type=content_type if inline else "application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    return response
