// The seller's product form shows only the fields of the chosen kind of goods: an element with
// data-kinds="card_key direct_topup" is hidden unless the kind select (#id_kind) holds one of them.
// The server drops the other kinds' fields anyway (catalog.forms.ProductForm.clean).
(function () {
  var kind = document.getElementById("id_kind");
  if (!kind) return;
  function show() {
    document.querySelectorAll("#product-form [data-kinds]").forEach(function (el) {
      el.hidden = el.dataset.kinds.split(" ").indexOf(kind.value) < 0;
    });
  }
  kind.addEventListener("change", show);
  show();
})();
