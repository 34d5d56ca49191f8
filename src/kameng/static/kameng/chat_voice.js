// Voice notes: record in the browser and attach the recording to the chat form's file input, so it is
// sent by the same form (and checked by the server like any other file). Hidden where the browser
// cannot record; the file input stays for choosing a recording made elsewhere.
(function () {
  "use strict";
  var button = document.getElementById("voice-record");
  var input = document.getElementById("chat-files");
  var state = document.getElementById("voice-state");
  if (!button || !input || !window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) return;
  button.hidden = false;
  var recorder = null;
  var chunks = [];

  button.addEventListener("click", function () {
    if (recorder) {
      recorder.stop();
      return;
    }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.ondataavailable = function (e) { if (e.data.size) chunks.push(e.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        var type = recorder.mimeType || "audio/webm";
        var ext = type.indexOf("ogg") >= 0 ? "ogg" : type.indexOf("mp4") >= 0 ? "m4a" : "webm";
        var file = new File(chunks, "voice-" + Date.now() + "." + ext, { type: type });
        var all = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
        all.items.add(file);
        input.files = all.files;
        recorder = null;
        button.textContent = button.dataset.start;
        state.textContent = button.dataset.done;
      };
      recorder.start();
      button.textContent = button.dataset.stop;
      state.textContent = "";
    }).catch(function () { button.hidden = true; });
  });
})();
