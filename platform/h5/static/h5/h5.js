/* H5 基层调解端: progressive enhancements only — every page works without this file. */
(function () {
  "use strict";

  // "加载更多": fetch the next page's items and append them in place.
  document.addEventListener("click", function (event) {
    var more = event.target.closest("[data-more]");
    if (!more || !window.fetch) return;
    event.preventDefault();
    var url = new URL(more.href, window.location.href);
    url.searchParams.set("partial", "1");
    more.textContent = "加载中…";
    fetch(url.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { more.insertAdjacentHTML("beforebegin", html); more.remove(); })
      .catch(function () { window.location.href = more.href; });
  });

  // Confirmation before irreversible buttons.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });

  // "再加一位当事人": a new row of the party formset from its empty form.
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-party]");
    if (!add) return;
    var box = document.getElementById("parties");
    var template = document.getElementById("party-template");
    if (!box || !template) return;
    var prefix = box.getAttribute("data-prefix");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    box.insertAdjacentHTML("beforeend", html);
    var title = box.lastElementChild.querySelector(".h5-party__title");
    if (title) title.textContent = "当事人" + (index + 1);
    total.value = String(index + 1);
  });
})();
