// 试算: next to each expression input of the field-definition form, a button evaluates the
// expression on the latest records before it is saved (the server's evaluator decides).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("#fielddef_form");
    if (!form) return;
    ["mandatory_depends_on", "depends_on"].forEach(function (name) {
      var input = form.querySelector("[name='" + name + "']");
      if (!input) return;
      var button = document.createElement("button");
      button.type = "button"; button.className = "btn btn-sm btn-outline-info ms-2"; button.textContent = "试算";
      var out = document.createElement("div");
      out.className = "small mt-1 lowcode-try-result";
      input.insertAdjacentElement("afterend", button);
      button.insertAdjacentElement("afterend", out);
      button.addEventListener("click", function () {
        var entity = (form.querySelector("[name='entity']") || {}).value || "case";
        var data = new FormData();
        data.append("expression", input.value);
        var token = form.querySelector("[name='csrfmiddlewaretoken']");
        fetch("/lowcode/try-expression/" + encodeURIComponent(entity) + "/", {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "X-CSRFToken": token ? token.value : "" }
        }).then(function (r) { return r.json(); }).then(function (res) {
          if (!res.ok) { out.className = "small mt-1 text-danger"; out.textContent = res.error; return; }
          out.className = "small mt-1 text-success";
          out.textContent = "最近 " + res.total + " 条记录中有 " + res.matched + " 条满足" +
            (res.errors ? "，" + res.errors + " 条无法计算" : "") +
            (res.examples.length ? "，例如：" + res.examples.join("；") : "");
        }).catch(function () { out.className = "small mt-1 text-danger"; out.textContent = "试算失败，请稍后再试"; });
      });
    });
  });
})();
