// Generated forms: conditional visibility / required, and reloading the form for another scope
// (e.g. case type) without losing what was typed. Expressions are evaluated on the server.
(function () {
  "use strict";
  function ready(fn) { document.readyState !== "loading" ? fn() : document.addEventListener("DOMContentLoaded", fn); }
  ready(function () {
    var cfg = document.getElementById("lowcode-form-config");
    if (!cfg) return;
    var form = cfg.closest("form");
    if (!form) return;
    var rulesUrl = cfg.dataset.rulesUrl, scopeField = cfg.dataset.scopeField;

    function rowOf(code) {
      var input = form.querySelector("[name='" + code + "']");
      if (!input) return null;
      return input.closest(".form-group") || input.closest(".form-row") || input.parentElement;
    }
    var timer = null;
    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var data = new FormData(form);
        fetch(rulesUrl, { method: "POST", body: data, credentials: "same-origin",
                          headers: { "X-CSRFToken": data.get("csrfmiddlewaretoken") || "" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (rules) {
            if (!rules) return;
            form.querySelectorAll("[data-lowcode-hidden]").forEach(function (el) {
              el.hidden = false; el.removeAttribute("data-lowcode-hidden");
            });
            form.querySelectorAll(".lowcode-required-mark").forEach(function (el) { el.remove(); });
            rules.hidden.forEach(function (code) {
              var row = rowOf(code);
              if (row) { row.hidden = true; row.setAttribute("data-lowcode-hidden", "1"); }
            });
            rules.required.forEach(function (code) {
              var row = rowOf(code);
              var label = row && row.querySelector("label");
              if (label) {
                var mark = document.createElement("span");
                mark.className = "lowcode-required-mark text-danger"; mark.textContent = " *";
                label.appendChild(mark);
              }
            });
          }).catch(function () {});
      }, 200);
    }
    form.addEventListener("change", refresh);
    form.addEventListener("input", refresh);
    refresh();

    // Add form: choosing another scope (case type) reloads the form for it, carrying the values.
    if (scopeField && cfg.dataset.add === "1") {
      var scopeInput = form.querySelector("[name='" + scopeField + "']");
      if (scopeInput) scopeInput.addEventListener("change", function () {
        var params = new URLSearchParams();
        new FormData(form).forEach(function (v, k) {
          if (k === "csrfmiddlewaretoken" || typeof v !== "string" || v === "" || k.indexOf("-") !== -1) return;
          params.append(k, v);
        });
        params.set("scope", scopeInput.value);
        window.location.search = params.toString();
      });
    }
  });
})();
