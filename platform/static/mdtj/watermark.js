// 页面水印守护（[M-6.1]）。水印层 #mdtj-wm 由服务器渲染（secure/watermark.py：姓名、账号、时间），
// 不依赖本脚本即可显示、截图和打印；本脚本只负责：被删除、被改属性（style/class/hidden…）
// 或被样式表隐藏后立即按服务器原样重画。无内联脚本（CSP）。
(function () {
  "use strict";
  var ID = "mdtj-wm";
  var first = document.getElementById(ID);
  if (!first) { return; }
  var pristine = first.cloneNode(false);  // exactly what the server rendered
  var current = first;
  var attrWatch = new MutationObserver(repair);

  function sameAttributes(el) {
    if (el.attributes.length !== pristine.attributes.length) { return false; }
    for (var i = 0; i < pristine.attributes.length; i++) {
      var a = pristine.attributes[i];
      if (el.getAttribute(a.name) !== a.value) { return false; }
    }
    return true;
  }

  function healthy(el) {
    if (!el || el.parentNode !== document.body || el.firstChild || !sameAttributes(el)) { return false; }
    var cs = window.getComputedStyle(el);
    return cs.display !== "none" && cs.visibility === "visible" && cs.opacity === "1" && cs.position === "fixed";
  }

  function place(el) {
    document.body.appendChild(el);  // a direct child of <body>: no ancestor can clip or hide it
    attrWatch.disconnect();
    attrWatch.observe(el, { attributes: true, childList: true, characterData: true, subtree: true });
    current = el;
  }

  function repair() {
    if (healthy(current)) { return; }
    if (current && current.parentNode) { current.parentNode.removeChild(current); }
    place(pristine.cloneNode(false));
  }

  place(current);
  // removed from <body>, or <body>'s children replaced
  new MutationObserver(repair).observe(document.body, { childList: true });
  // hidden by a stylesheet or an ancestor's change: not visible to the observers, so also checked
  window.setInterval(repair, 1000);
})();
