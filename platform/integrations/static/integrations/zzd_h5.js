// 政钉 H5 免登: ask the 政钉 app for a one-time auth code (gdt-jsapi getAuthCode with the tenant's
// corpId) and hand it to the back end, which exchanges it and opens the session. Outside the app
// there is no code: say so and offer the password login.
(function () {
  var box = document.getElementById("zzd-login");
  if (!box) return;
  var status = document.getElementById("zzd-status");
  var fallback = document.getElementById("zzd-fallback");
  function fail(text) {
    status.textContent = text;
    fallback.hidden = false;
  }
  var api = window.gdtAuth;
  if (!api) { fail("政钉组件未加载，请改用账号密码登录。"); return; }
  var timer = setTimeout(function () { fail("未能从浙政钉取得授权：请在浙政钉中打开本页面，或改用账号密码登录。"); }, 8000);
  try {
    api.getAuthCode({ corpId: box.getAttribute("data-corp-id") }).then(function (res) {
      clearTimeout(timer);
      var code = res && (res.code || res.auth_code);
      if (!code) { fail("浙政钉未返回授权码，请重试或改用账号密码登录。"); return; }
      window.location.replace(box.getAttribute("data-action") + "?code=" + encodeURIComponent(code));
    }, function () {
      clearTimeout(timer);
      fail("未能从浙政钉取得授权：请在浙政钉中打开本页面，或改用账号密码登录。");
    });
  } catch (e) {
    clearTimeout(timer);
    fail("未能从浙政钉取得授权：请在浙政钉中打开本页面，或改用账号密码登录。");
  }
})();
