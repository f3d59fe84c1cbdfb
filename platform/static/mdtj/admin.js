// Site-wide admin script (loaded by jazzmin's custom_js). Intentionally small.

// data-confirm="…": ask before a button/link acts or a form is submitted. Replaces inline
// onclick/onsubmit="return confirm(…)", which the Content-Security-Policy does not run.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var el = event.target.closest("button[data-confirm], input[data-confirm], a[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();

// A list's bulk actions as buttons (打标, 档案归档, 标为已读 …) instead of a "---------" drop-down:
// each button picks its action and presses the list's own "执行" button (same form, same checks).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".actions select[name=action]").forEach(function (select) {
      var go = select.closest(".actions").querySelector("button[name=index]");
      var options = Array.prototype.filter.call(select.options, function (o) { return o.value; });
      if (!go || !options.length || options.length > 6) { return; }
      var bar = document.createElement("span");
      bar.className = "mdtj-action-buttons";
      options.forEach(function (o) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "btn btn-sm " + (o.value.indexOf("delete") === 0 ? "btn-outline-danger" : "btn-outline-primary");
        b.textContent = o.textContent.replace(/（.*?）/, "");
        b.title = o.textContent;
        b.dataset.action = o.value;
        b.addEventListener("click", function () { select.value = o.value; go.click(); });
        bar.appendChild(b);
      });
      select.closest("label").style.display = "none";
      go.style.display = "none";
      go.parentNode.insertBefore(bar, go);
    });
  });
})();

// The region picker (orgs.widgets.RegionSelect): a search box above the tree-ordered list; typing
// keeps the regions whose path contains the text ("湖滨" → 湖滨社区 and its grids) and picks the
// first of them.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-region-search]").forEach(function (select) {
      var box = document.createElement("input");
      box.type = "search";
      box.className = "form-control form-control-sm mb-1 mdtj-region-search";
      box.placeholder = select.getAttribute("data-region-search");
      box.setAttribute("aria-label", "搜索区域");
      select.parentNode.insertBefore(box, select);
      box.addEventListener("input", function () {
        var term = box.value.trim(), first = null;
        Array.prototype.forEach.call(select.options, function (o) {
          var text = (o.getAttribute("data-search") || o.textContent);
          var show = !term || !o.value || text.indexOf(term) >= 0;
          o.hidden = !show;
          if (show && o.value && first === null) { first = o; }
        });
        if (term && first) { select.value = first.value; select.dispatchEvent(new Event("change", {bubbles: true})); }
      });
    });
  });
})();
