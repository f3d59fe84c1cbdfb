// Follows a background ingest (admin 导入结果 page): polls the batch's progress endpoint, moves the
// bar and the counts, and reloads the page (which then shows the result) when the batch is done.
(function () {
  "use strict";
  var card = document.getElementById("ingest-result");
  if (!card || card.dataset.finished === "1") { return; }
  var bar = document.getElementById("ingest-bar");
  var status = document.getElementById("ingest-status");
  var hint = document.getElementById("ingest-hint");
  var failures = 0;

  function show(p) {
    bar.style.width = p.percent + "%";
    bar.setAttribute("aria-valuenow", p.percent);
    bar.textContent = p.percent + "%";
    status.textContent = p.status_label;
    ["read", "new", "updated", "unchanged", "rejected"].forEach(function (k) {
      var cell = card.querySelector('[data-count="' + k + '"]');
      if (cell) { cell.textContent = p[k]; }
    });
    if (p.hint) { hint.textContent = p.hint; }
  }

  function poll() {
    fetch(card.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (p) {
        failures = 0;
        show(p);
        if (p.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () {
        failures += 1;
        hint.textContent = "暂时无法获取进度，正在重试……";
        window.setTimeout(poll, Math.min(10000, 1000 * failures));
      });
  }
  window.setTimeout(poll, 500);
})();
