(function () {
  // The unread-notice badge in the top nav follows new notices: a small poll, text only.
  var badge = document.getElementById("notice-count");
  if (!badge || !badge.dataset.poll || !window.fetch) return;
  var url = badge.dataset.poll;
  function show(data) {
    var n = Number(data.unread) || 0;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = n === 0;
    var newest = data.newest && data.newest[0];
    badge.title = newest ? String(newest.text) : "";
  }
  function poll() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) show(data); })
      .catch(function () {});
  }
  setInterval(poll, 20000);
  document.addEventListener("visibilitychange", poll);
})();
