// The exam page's helper. The page works without it (every page is a form); with it, answers
// save as they change, edits made offline wait in localStorage until the connection returns,
// and the timer counts down from what the server says, corrected on every save.
(function () {
  "use strict";
  var form = document.querySelector("form[data-attempt]");
  if (!form) { return; }
  var attempt = form.getAttribute("data-attempt");
  var part = Number(form.getAttribute("data-part"));
  var csrf = form.querySelector("input[name=csrf]").value;
  var status = document.getElementById("save-status");
  var timer = document.getElementById("timer");
  var queueKey = "imh-exam-queue-" + attempt;
  var seqKey = "imh-exam-seq-" + attempt;
  var sending = false;

  function say(text) { if (status) { status.textContent = text; } }

  // Sequence numbers only grow: the server's base for this page, or past anything sent before.
  function nextSeq() {
    var base = Number(form.getAttribute("data-seq"));
    var last = Number(localStorage.getItem(seqKey) || 0);
    var seq = Math.max(base, last + 1);
    localStorage.setItem(seqKey, String(seq));
    return seq;
  }

  function queue() { try { return JSON.parse(localStorage.getItem(queueKey) || "[]"); } catch (e) { return []; } }
  function setQueue(q) { localStorage.setItem(queueKey, JSON.stringify(q)); }

  function enqueue(item, value) {
    var q = queue().filter(function (s) { return s.item !== item; });
    q.push({ part: part, item: item, value: value, seq: nextSeq() });
    setQueue(q);
    flush();
  }

  function flush() {
    if (sending) { return; }
    var q = queue();
    if (q.length === 0) { say("All answers saved."); return; }
    if (!navigator.onLine) { offline(); return; }
    sending = true;
    say("Saving…");
    var s = q[0];
    fetch("/exam/api/save", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      credentials: "same-origin",
      body: JSON.stringify(s)
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    }).then(function (res) {
      sending = false;
      if (res.ok) {
        setQueue(queue().filter(function (x) { return x.seq !== s.seq; }));
        if (timer && typeof res.body.remaining_ms === "number") { setRemaining(res.body.remaining_ms, res.body.paused); }
        flush();
      } else if (res.status === 423) {
        // Paused: the save waits here and goes when the exam resumes.
        say(res.body.error || "Your exam is paused.");
        setTimeout(flush, 5000);
      } else if (res.status >= 500 || res.status === 429) {
        // Not stored yet (the server could not write, or asks us to slow down): keep it, retry.
        say(res.body.error || "The server could not store your answer yet. It is kept in this browser and will be sent again.");
        setTimeout(flush, 5000);
      } else {
        // Refused for good (time over, submitted, another browser): say why, keep the rest.
        setQueue(queue().filter(function (x) { return x.seq !== s.seq; }));
        say("Not saved: " + (res.body.error || "the server refused this answer."));
      }
    }).catch(function () {
      sending = false;
      offline();
      setTimeout(flush, 5000);
    });
  }

  function offline() {
    say("You are offline. Your answers are kept in this browser and will be sent when the connection returns. Do not close this window.");
  }

  window.addEventListener("online", flush);
  window.addEventListener("offline", offline);

  // Part One: a radio choice or a flag saves at once.
  form.addEventListener("change", function (ev) {
    var t = ev.target;
    var item = form.getAttribute("data-item");
    if (t.name === "choice") { enqueue(item, t.value); }
    else if (t.name === "flag") { enqueue("@flag:" + item, t.checked ? "1" : "0"); }
    else if (t.name === "choose") { choose(t); }
  });

  // Part Two: the k-of-n choice, never more than k.
  function choose(box) {
    var k = Number(form.getAttribute("data-answer"));
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=choose]"));
    var chosen = boxes.filter(function (b) { return b.checked; });
    if (chosen.length > k) {
      box.checked = false;
      say("You may answer " + k + " vignettes. Untick one before choosing another.");
      return;
    }
    enqueue("@choice", chosen.map(function (b) { return b.value; }).sort().join(","));
  }

  // Part Two: text saves a moment after typing stops; the word count follows, and so does the
  // character count (a polite live region, so it is told only when typing pauses, or at once
  // when the limit is reached). Characters are counted as the server counts them: code points.
  var timers = {};
  function grouped(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function countChars(t) {
    var cc = document.getElementById("cc-" + t.getAttribute("data-item"));
    var max = Number(t.getAttribute("data-max"));
    var n = Array.from(t.value).length;
    if (cc) {
      cc.textContent = grouped(n) + " of " + grouped(max) + " characters" +
        (n >= max ? ": the limit. Shorten the response to add more." : "");
    }
    return n <= max;
  }
  form.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t.tagName !== "TEXTAREA") { return; }
    var item = t.getAttribute("data-item");
    var wc = document.getElementById("wc-" + item);
    if (wc) { wc.textContent = (t.value.trim() ? t.value.trim().split(/\s+/).length : 0) + " words"; }
    var max = Number(t.getAttribute("data-max"));
    if (max && Array.from(t.value).length >= max) { countChars(t); }
    say("Editing…");
    clearTimeout(timers[item]);
    timers[item] = setTimeout(function () {
      // Over the limit (pasted past it): say so and keep the saved text, rather than send a
      // save the server will refuse.
      if (max && !countChars(t)) { say("Not saved: this response is over " + grouped(max) + " characters. Shorten it and it will be saved."); return; }
      enqueue(item, t.value);
    }, 800);
  });

  // The timer: the server's remaining time, counted down here, corrected on every save.
  var deadline = null;
  var paused = false;
  function setRemaining(ms, isPaused) {
    paused = !!isPaused;
    deadline = Date.now() + ms;
    render();
  }
  function render() {
    if (!timer || deadline === null) { return; }
    var left = Math.max(0, paused ? deadline - Date.now() : deadline - Date.now());
    var s = Math.floor(left / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    timer.textContent = (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
    if (left === 0) { window.location.href = "/exam/" + part + "/receipt"; }
  }
  if (timer) {
    setRemaining(Number(timer.getAttribute("data-remaining-ms")), timer.getAttribute("data-paused") === "true");
    setInterval(function () { if (paused) { deadline += 1000; } render(); }, 1000);
    // Ask the server now and then, so a pause or added time shows without a save.
    setInterval(function () {
      fetch("/exam/api/clock/" + part, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (b) { if (typeof b.remaining_ms === "number") { setRemaining(b.remaining_ms, b.paused); } })
        .catch(function () {});
    }, 15000);
  }

  // Leaving the tab, copy and paste are told to the proctor, never blocked.
  function report(kind, detail) {
    if (!navigator.onLine) { return; }
    fetch("/exam/api/event", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      credentials: "same-origin",
      body: JSON.stringify({ kind: kind, detail: detail || "" })
    }).catch(function () {});
  }
  document.addEventListener("visibilitychange", function () { report(document.hidden ? "focus-lost" : "focus-back"); });
  document.addEventListener("copy", function () { report("copy"); });
  document.addEventListener("paste", function () { report("paste"); });

  // Keys: Alt+Shift with a letter, so no single key can be pressed by mistake (WCAG 2.1.4).
  // N next, P previous, R review, F flag; on Part One, 1-4 with Alt+Shift choose an option.
  document.addEventListener("keydown", function (ev) {
    if (!ev.altKey || !ev.shiftKey || ev.ctrlKey || ev.metaKey) { return; }
    var key = ev.code;
    var click = function (sel) { var el = form.querySelector(sel); if (el) { ev.preventDefault(); el.click(); } };
    if (key === "KeyN") { click("button[value=next]"); }
    else if (key === "KeyP") { click("button[value=prev]"); }
    else if (key === "KeyR") { click("button[value=review]"); }
    else if (key === "KeyF") { click("input[name=flag]"); }
    else if (/^Digit[1-4]$/.test(key)) { click("#opt-" + (Number(key.slice(5)) - 1)); }
  });

  // Before leaving a page through a form, send what is waiting.
  form.addEventListener("submit", function () { flush(); });
  flush();
})();
