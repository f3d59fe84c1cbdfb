"""H5 智能辅助: 调解案例 search (typical cases + the closed cases in the user's scope), a typical
case's page, and the 基层减负 Q&A search with highlighted matches. Reads only: library.search and
library.actions decide what the user may see."""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from h5.views import VIEW, h5_view, render_h5
from library import actions, search
from library.forms import QASearchForm, SearchForm
from library.models import QAEntry
from lowcode.registry import get_dictionary


def _label(dictionary: str, code: str) -> str:
    items = get_dictionary(dictionary)
    return items[code].label if code in items else (code or "")


def _library_user(request):
    if not actions.may_use_library(request.user):
        raise Http404("无权使用案例库")


@require_GET
@h5_view(VIEW)
def assist(request):
    _library_user(request)
    form = SearchForm(request.GET or None)
    rows, searched, error = [], False, ""
    if form.is_valid():
        d = form.cleaned_data
        if d["q"].strip():
            searched = True
            for hit in search.search(d["q"], request.user, kinds=form.kinds(), case_type=d["case_type"],
                                     mediation_type=d["mediation_type"], tag=d["tag"], limit=20):
                doc = hit.doc
                rows.append({
                    "url": reverse("h5:assist_typical", args=[doc.ref_id]) if doc.kind == "typical"
                    else reverse("h5:case", args=[doc.ref_id]),
                    "kind": doc.get_kind_display(), "typical": doc.kind == "typical",
                    "title": search.highlight(doc.title, hit.matched),
                    "summary": search.highlight(doc.summary[:120], hit.matched),
                    "type": _label("case_type", doc.case_type)})
    elif request.GET:
        error = "；".join(f"{form.fields[f].label}：{e[0]}" if f in form.fields else e[0]
                         for f, e in form.errors.items())
    return render_h5(request, "h5/assist.html", {"form": form, "rows": rows, "searched": searched, "error": error,
                                                 "active_tab": "me"})


@require_GET
@h5_view(VIEW)
def assist_typical(request, pk: int):
    _library_user(request)
    tc = get_object_or_404(actions.visible_typicals(request.user), pk=pk)
    return render_h5(request, "h5/assist_typical.html", {
        "tc": tc, "level": _label("typical_level", tc.typical_level), "status": _label("typical_status", tc.status),
        "type": _label("case_type", tc.case_type), "mediation": _label("mediation_type", tc.mediation_type),
        "active_tab": "me"})


@require_GET
@h5_view(VIEW)
def assist_qa(request):
    _library_user(request)
    form = QASearchForm(request.GET or None)
    rows, searched, error = [], False, ""
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:
            searched = True
            hits = search.search(q, request.user, kinds=("qa",), limit=20)
            entries = QAEntry.objects.select_related("category").in_bulk([h.doc.ref_id for h in hits])
            for hit in hits:
                entry = entries.get(hit.doc.ref_id)
                if entry is None or not entry.enabled:
                    continue
                rows.append({"category": entry.category.name,
                             "question": search.highlight(entry.question, hit.matched),
                             "answer": search.highlight(entry.answer, hit.matched),
                             "synonyms": entry.synonyms})
    elif request.GET:
        error = "问题：" + form.errors["q"][0]
    return render_h5(request, "h5/assist_qa.html", {"form": form, "rows": rows, "searched": searched, "error": error,
                                                    "active_tab": "me"})
