(function () {
  // Live countdown to the deadline the server printed (its text is the no-JS fallback).
  var els = document.querySelectorAll(".countdown[data-deadline]");
  if (!els.length) return;
  var zh = document.documentElement.lang.indexOf("zh") === 0;
  function fmt(ms) {
    if (ms <= 0) return zh ? "已逾期" : "overdue";
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
        m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (zh) return d ? d + "天" + h + "时" + m + "分" : h ? h + "时" + m + "分" + sec + "秒" : m + "分" + sec + "秒";
    return d ? d + "d " + h + "h " + m + "m" : h ? h + "h " + m + "m " + sec + "s" : m + "m " + sec + "s";
  }
  function tick() {
    els.forEach(function (el) { el.textContent = fmt(new Date(el.dataset.deadline) - Date.now()); });
  }
  tick();
  setInterval(tick, 1000);
})();
