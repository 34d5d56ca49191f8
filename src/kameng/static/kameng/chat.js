// The chat page refreshes itself: it asks for the messages after the last one it shows, every few
// seconds, and appends them. Sending is the page's plain form POST, so the chat works without this
// script too. Text is inserted as text, never as HTML.
(function () {
  "use strict";
  var list = document.getElementById("transcript");
  if (!list || !list.dataset.poll) return;
  var state = document.getElementById("conv-state");
  var busy = false;
  list.scrollTop = list.scrollHeight; // the newest message in view

  function atBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function line(m) {
    var li = document.createElement("li");
    li.className = "msg-" + m.author + (m.internal ? " internal" : "");
    li.dataset.id = m.id;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = m.author === "agent" ? list.dataset.agentLabel + " " + m.agent_no : m.author_label;
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = new Date(m.at).toLocaleString();
    var p = document.createElement("p");
    p.textContent = m.text;
    if (m.link) {
      var a = document.createElement("a");
      a.href = m.link;
      a.textContent = " " + list.dataset.linkLabel;
      p.appendChild(a);
    }
    li.append(who, " ", when);
    if (m.text) li.appendChild(p);
    (m.attachments || []).forEach(function (a) { li.appendChild(attachment(a)); });
    return li;
  }

  function attachment(a) {
    var div = document.createElement("div");
    div.className = "att att-" + a.kind;
    var el;
    if (a.refused) {
      el = document.createElement("span");
      el.className = "muted";
      el.textContent = a.name + " " + list.dataset.refusedLabel + ": " + a.refused;
    } else if (a.kind === "image") {
      el = document.createElement("a");
      el.href = a.url;
      var img = document.createElement("img");
      img.src = a.url;
      img.alt = a.name;
      el.appendChild(img);
    } else if (a.kind === "voice" || a.kind === "video") {
      el = document.createElement(a.kind === "voice" ? "audio" : "video");
      el.controls = true;
      el.src = a.url;
      el.title = a.name;
    } else {
      el = document.createElement("a");
      el.href = a.url;
      el.textContent = a.name;
    }
    div.appendChild(el);
    return div;
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(list.dataset.poll + "?after=" + encodeURIComponent(list.dataset.after), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var follow = atBottom();
        data.messages.forEach(function (m) {
          if (list.querySelector('[data-id="' + m.id + '"]')) return; // never shown twice
          list.appendChild(line(m));
          list.dataset.after = m.id;
        });
        if (follow) list.scrollTop = list.scrollHeight;
        if (state && data.state) state.textContent = data.state;
      })
      .catch(function () {})
      .finally(function () { busy = false; });
  }
  setInterval(poll, 4000);
})();
