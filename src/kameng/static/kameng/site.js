// Behaviour every page may use, kept out of the HTML so the Content-Security-Policy can refuse
// inline script: <form data-confirm="question"> asks before submitting; <select data-autosubmit>
// submits its form when changed (the button next to it stays for readers without script).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
});
