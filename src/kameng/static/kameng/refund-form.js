(function () {
  var form = document.getElementById("refund-form");
  if (!form) return;
  document.getElementById("preview-btn").hidden = true;
  var row = document.getElementById("amount-row");
  row.classList.remove("hidden-js");
  row.hidden = form.elements.demand.value !== "partial_refund";
  // Changing the reason or the demand re-renders the page (GET) so the checklist and the draft follow.
  function refresh() {
    var q = new URLSearchParams();
    ["reason", "demand", "amount", "refund_to", "channel", "on_behalf"].forEach(function (n) {
      var el = form.elements[n];
      if (el && el.value) q.set(n, el.value);
    });
    var d = form.elements.description.value;
    if (d && d.length < 1500) q.set("description", d);
    location.search = q.toString();
  }
  form.elements.reason.addEventListener("change", refresh);
  form.elements.demand.addEventListener("change", refresh);
})();
