// 确认凭证打印页：“打印”按钮（不用内联 onclick，CSP 不允许内联脚本）。
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
});
