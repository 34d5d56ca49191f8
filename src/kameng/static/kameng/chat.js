// The chat page in real time. It opens a WebSocket (/ws/support/c/<id>/, frames in README.md),
// says `hello` with the last message id it shows and then receives every message, typing notice,
// read receipt and state change as it happens; it sends through the socket while it is open, each
// message with a fresh client_id so that a retry after a reconnect is stored once.
// When the socket cannot open (a proxy that blocks WebSockets) the page works exactly as before:
// it asks for new messages every few seconds and sends with its plain form POST. Messages are shown
// by id, once each, in order. Text is inserted as text, never as HTML.
(function () {
  "use strict";
  var list = document.getElementById("transcript");
  if (!list || !list.dataset.poll) return;
  var state = document.getElementById("conv-state");
  var typingLine = document.getElementById("chat-typing");
  var errorLine = document.getElementById("chat-error");
  var viewersLine = document.getElementById("viewers");
  var form = document.querySelector(".chat-form");
  var textarea = form && form.querySelector("textarea[name=body]");
  var internalBox = form && form.querySelector("input[name=internal]");
  var own = list.dataset.own;
  var busy = false;
  var ws = null;
  var live = false;
  var retryIn = 1000;
  var stopped = false; // refused by the server (4401/4403/4429): polling only
  var pending = {}; // client_id -> frame, until the echo comes back
  var typingSent = 0;
  var typingTimer = null;
  var readSent = 0;
  list.scrollTop = list.scrollHeight; // the newest message in view

  function atBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function lastId() {
    return parseInt(list.dataset.after || "0", 10) || 0;
  }

  function newClientId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function readMark() {
    var span = document.createElement("span");
    span.className = "read";
    span.textContent = list.dataset.readLabel;
    return span;
  }

  function line(m) {
    var li = document.createElement("li");
    li.className = "msg-" + m.author + (m.internal ? " internal" : "");
    li.dataset.id = m.id;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = (m.author === "agent" ? list.dataset.agentLabel + " " + m.agent_no : m.author_label) +
      (m.via ? " · " + m.via : "") + (m.internal ? " · " + list.dataset.noteLabel : "");
    if (m.author === "agent" && m.agent_no) {
      // The verified mark: an agent's 工号, which anyone can check on 验证客服.
      var mark = document.createElement("a");
      mark.className = "badge ok verified";
      mark.href = "/verify/?value=" + encodeURIComponent(m.agent_no);
      mark.textContent = "✓ " + (list.dataset.verifiedLabel || "");
      who.append(" ", mark);
    }
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = m.at_shown || new Date(m.at).toLocaleString();
    var p = document.createElement("p");
    p.textContent = m.text;
    if (m.link) {
      var a = document.createElement("a");
      a.href = m.link;
      a.textContent = " " + list.dataset.linkLabel;
      p.appendChild(a);
    }
    li.append(who, " ", when);
    if (m.read && m.author === own && !m.internal) li.append(" ", readMark());
    if (m.text) li.append(p);
    (m.attachments || []).forEach(function (a) { li.appendChild(attachment(a)); });
    return li;
  }

  // A file of a message: an image, a player for voice and video, a link; a refused one says why.
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

  // Shown once, in id order, whatever way it came (poll, replay, live, echo).
  function show(m) {
    if (list.querySelector('[data-id="' + m.id + '"]')) return false;
    var follow = atBottom();
    var li = line(m);
    var mine = m.client_id && list.querySelector('[data-client-id="' + m.client_id + '"]');
    if (mine) {
      mine.replaceWith(li);
      delete pending[m.client_id];
    } else {
      var later = null;
      list.querySelectorAll("li[data-id]").forEach(function (other) {
        if (!later && parseInt(other.dataset.id, 10) > m.id) later = other;
      });
      var firstPending = list.querySelector("li.pending");
      list.insertBefore(li, later || firstPending);
    }
    if (m.id > lastId()) list.dataset.after = m.id;
    if (follow || mine) list.scrollTop = list.scrollHeight;
    if (m.author !== own && m.author !== "system") typingLine.textContent = "";
    return true;
  }

  function showError(text) {
    if (!errorLine) return;
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function sendRead() {
    if (!live || document.hidden) return;
    var upTo = lastId();
    if (upTo > readSent) {
      readSent = upTo;
      ws.send(JSON.stringify({ type: "read", up_to: upTo }));
    }
  }

  function markRead(upTo) {
    list.querySelectorAll("li.msg-" + own + "[data-id]").forEach(function (li) {
      if (parseInt(li.dataset.id, 10) <= upTo && !li.classList.contains("internal") && !li.querySelector(".read")) {
        li.querySelector(".when").after(" ", readMark());
      }
    });
  }

  function onFrame(event) {
    var f;
    try { f = JSON.parse(event.data); } catch (e) { return; }
    if (f.type === "message") {
      if (show(f) && f.author !== own) sendRead();
    } else if (f.type === "state") {
      if (state) state.textContent = f.label;
    } else if (f.type === "typing") {
      typingLine.textContent = f.text;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingLine.textContent = ""; }, 5000);
    } else if (f.type === "read") {
      if (f.by !== own) markRead(f.up_to);
    } else if (f.type === "viewers") {
      if (viewersLine) {
        viewersLine.textContent = f.text;
        viewersLine.hidden = !f.text;
      }
    } else if (f.type === "error") {
      showError(f.message);
      // What looks like a code or a card number: the buyer confirms before it goes.
      var confirmBox = document.getElementById("confirm-send");
      if (f.code === "confirm" && confirmBox) confirmBox.hidden = false;
      if (f.client_id && pending[f.client_id]) {
        // Refused: the words go back into the box, nothing is lost.
        var bubble = list.querySelector('[data-client-id="' + f.client_id + '"]');
        if (bubble) bubble.remove();
        if (textarea && !textarea.value) textarea.value = pending[f.client_id].body;
        delete pending[f.client_id];
      }
    }
  }

  function connect() {
    if (stopped || !list.dataset.ws || !window.WebSocket) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + list.dataset.ws;
    try { ws = new WebSocket(url); } catch (e) { return; }
    ws.onopen = function () {
      live = true;
      retryIn = 1000;
      list.dataset.live = "1";
      ws.send(JSON.stringify({ type: "hello", after: lastId() }));
      Object.keys(pending).forEach(function (id) { ws.send(JSON.stringify(pending[id])); });
    };
    ws.onmessage = onFrame;
    ws.onclose = function (event) {
      live = false;
      delete list.dataset.live;
      if (event.code === 4401 || event.code === 4403 || event.code === 4429) {
        stopped = true;
        return;
      }
      setTimeout(connect, retryIn);
      retryIn = Math.min(retryIn * 2, 30000);
    };
  }

  function poll() {
    if (live || busy || document.hidden) return;
    busy = true;
    fetch(list.dataset.poll + "?after=" + encodeURIComponent(list.dataset.after), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        data.messages.forEach(show);
        if (state && data.state) state.textContent = data.state;
      })
      .catch(function () {})
      .finally(function () { busy = false; });
  }

  if (form && textarea) {
    form.addEventListener("submit", function (event) {
      var action = event.submitter && event.submitter.value;
      var body = textarea.value.trim();
      // Only sending text goes through the socket; files, other buttons and an empty box (the page
      // says why) are the plain form as before.
      var files = form.querySelector('input[type="file"]');
      if (files && files.files.length) return;
      if (!live || (action !== "send" && action !== "reply") || !body) return;
      event.preventDefault();
      showError("");
      var frame = { type: "message", client_id: newClientId(), body: body };
      if (internalBox && internalBox.checked) frame.internal = true;
      var confirmed = form.querySelector('input[name="confirm"]');
      if (confirmed && confirmed.checked) {
        frame.confirm = true;
        confirmed.checked = false;
        confirmed.parentNode.hidden = true;
      }
      pending[frame.client_id] = frame;
      var li = document.createElement("li");
      li.className = "msg-" + own + " pending" + (frame.internal ? " internal" : "");
      li.dataset.clientId = frame.client_id;
      var who = document.createElement("span");
      who.className = "when";
      who.textContent = list.dataset.pendingLabel;
      var p = document.createElement("p");
      p.textContent = body;
      li.append(who, p);
      list.appendChild(li);
      list.scrollTop = list.scrollHeight;
      textarea.value = "";
      ws.send(JSON.stringify(frame));
    });
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (!live || now - typingSent < 3000) return;
      typingSent = now;
      var frame = { type: "typing" };
      if (internalBox && internalBox.checked) frame.internal = true;
      var confirmed = form.querySelector('input[name="confirm"]');
      if (confirmed && confirmed.checked) {
        frame.confirm = true;
        confirmed.checked = false;
        confirmed.parentNode.hidden = true;
      }
      ws.send(JSON.stringify(frame));
    });
  }
  document.addEventListener("visibilitychange", sendRead);
  setInterval(poll, 4000);
  connect();
})();
