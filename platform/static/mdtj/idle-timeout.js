/* Idle-timeout warning (等保 超时退出). The server ends a session after the security policy's idle
 * minutes (accounts.middleware.IdleTimeoutMiddleware); this script warns a couple of minutes before
 * that, offers “继续使用” (one request to the keep-alive URL pushes the expiry forward), and at the
 * end reloads the page, which then shows the login page. It never keeps a session alive by itself.
 * Settings come from its own tag's data attributes (no inline script). */
(function () {
  "use strict";
  var tag = document.currentScript;
  if (!tag) { return; }
  var idle = parseInt(tag.dataset.idleSeconds, 10);
  var warnBefore = parseInt(tag.dataset.warnSeconds, 10) || 120;
  var keepaliveUrl = tag.dataset.keepaliveUrl;
  if (!idle || idle <= 0) { return; }
  warnBefore = Math.min(warnBefore, Math.max(idle - 30, 10));

  var deadline = 0, warnTimer = null, endTimer = null, tickTimer = null, box = null, text = null;

  function secondsLeft() { return Math.max(0, Math.round((deadline - Date.now()) / 1000)); }

  function describe(s) {
    var m = Math.floor(s / 60), r = s % 60;
    return (m ? m + " 分 " : "") + r + " 秒";
  }

  function build() {
    box = document.createElement("div");
    box.className = "mdtj-idle-warning";
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-live", "assertive");
    var st = box.style;  // CSSOM, allowed under a CSP without 'unsafe-inline'
    st.position = "fixed"; st.left = "50%"; st.top = "20px"; st.transform = "translateX(-50%)";
    st.zIndex = "2147483000"; st.maxWidth = "92vw"; st.padding = "14px 18px"; st.borderRadius = "6px";
    st.background = "#fff7e6"; st.border = "1px solid #f5a623"; st.color = "#5c3b00";
    st.boxShadow = "0 4px 16px rgba(0,0,0,.2)"; st.font = "15px/1.6 sans-serif"; st.display = "none";
    text = document.createElement("span");
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "继续使用";
    button.style.marginLeft = "12px"; button.style.padding = "4px 12px"; button.style.cursor = "pointer";
    button.addEventListener("click", keepAlive);
    box.appendChild(text);
    box.appendChild(button);
    document.body.appendChild(box);
  }

  function showWarning() {
    if (!box) { build(); }
    box.style.display = "block";
    var update = function () {
      text.textContent = "您已较长时间未操作，为保护数据安全，系统将在 " + describe(secondsLeft()) + " 后自动退出登录。";
    };
    update();
    clearInterval(tickTimer);
    tickTimer = setInterval(update, 1000);
  }

  function expire() {
    clearInterval(tickTimer);
    if (text) { text.textContent = "登录已超时，正在返回登录页……"; }
    window.location.reload();
  }

  function schedule() {
    clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tickTimer);
    deadline = Date.now() + idle * 1000;
    warnTimer = setTimeout(showWarning, (idle - warnBefore) * 1000);
    endTimer = setTimeout(expire, idle * 1000 + 1000);
  }

  function keepAlive() {
    fetch(keepaliveUrl, {credentials: "same-origin", headers: {"X-Requested-With": "XMLHttpRequest"}})
      .then(function (response) {
        if (!response.ok || response.redirected) { expire(); return; }
        if (box) { box.style.display = "none"; }
        schedule();
      })
      .catch(function () { /* network trouble: keep the countdown, the server decides */ });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", schedule);
  } else {
    schedule();
  }
  window.mdtjIdleTimeout = {deadline: function () { return deadline; }, keepAlive: keepAlive};
}());
