// The exam pages' helper. Every page works without it (each is a form, or has a "Check again"
// link); with it, answers save as they change, edits made offline wait in localStorage until the
// connection returns, the timer counts down from what the server says (corrected on every save
// and every clock check) and warns at 10, 5 and 1 minute left, the candidate's display tools
// work, and the waiting and paused pages move on by themselves without reloading.
(function () {
  "use strict";
  var csrfInput = document.querySelector("input[name=csrf]");
  var csrf = csrfInput ? csrfInput.value : "";

  // The waiting page: ask the server now and then whether the proctor has admitted the
  // candidate, and only then go on. Nothing on the page moves meanwhile, so focus stays put.
  var waiting = document.getElementById("waiting");
  if (waiting) {
    setInterval(function () {
      fetch("/exam/api/status", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (b) { if (b.admitted || b.absent) { window.location.href = "/candidate"; } })
        .catch(function () {});
    }, 10000);
    return;
  }

  // An exam page: the part's form, or (review, paused) the tools' box, which carries the same
  // attempt, part and sequence base.
  var form = document.querySelector("form[data-attempt]");
  var tools = document.getElementById("tools");
  var ctx = form || tools;
  if (!ctx) { return; }
  var attempt = ctx.getAttribute("data-attempt");
  var part = Number(ctx.getAttribute("data-part"));
  var status = document.getElementById("save-status");
  var timer = document.getElementById("timer");
  var queueKey = "imh-exam-queue-" + attempt;
  var seqKey = "imh-exam-seq-" + attempt;
  var sending = false;

  function say(text) { if (status) { status.textContent = text; } }

  // Sequence numbers only grow: the server's base for this page, or past anything sent before.
  function nextSeq() {
    var base = Number(ctx.getAttribute("data-seq"));
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
  if (form) {
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
    var message = document.getElementById("choice-message");
    if (chosen.length > k) {
      // Never silently: the box is unticked again and the alert says why, and stays.
      box.checked = false;
      if (message) {
        message.textContent = "You may answer only " + k + " vignettes, and " + k + " are ticked. Untick one of them first, then tick this one.";
        message.classList.add("notice", "bad");
      }
      return;
    }
    if (message) { message.textContent = ""; message.classList.remove("notice", "bad"); }
    var notChosen = document.getElementById("not-chosen");
    if (notChosen && box.getAttribute("data-current") === "true") { notChosen.hidden = box.checked; }
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

  // Part One: striking out an option (a note for the candidate, never scored), saved like the
  // flag as "@strike:ITEM" with the struck options' stored letters.
  Array.prototype.forEach.call(form.querySelectorAll("button.strike"), function (b) { b.hidden = false; });
  form.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button.strike") : null;
    if (!b) { return; }
    var option = b.closest(".option");
    var on = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", on ? "true" : "false");
    option.classList.toggle("struck", on);
    var label = option.querySelector("label");
    var note = label.querySelector(".struck-note");
    if (on && !note) {
      note = document.createElement("span");
      note.className = "sr-only struck-note";
      note.textContent = " (struck out)";
      label.appendChild(note);
    } else if (!on && note) { note.parentNode.removeChild(note); }
    var letters = Array.prototype.map.call(form.querySelectorAll(".option.struck"), function (o) {
      return o.getAttribute("data-canonical");
    }).sort().join("");
    enqueue("@strike:" + form.getAttribute("data-item"), letters);
  });
  }

  // The timer: the server's remaining time at render (or at the last save or clock check),
  // counted down on the browser's monotonic clock, so a wrong or changed system clock changes
  // nothing. Always h:mm:ss, as the server renders it.
  var deadline = null;
  var paused = false;
  var pausedLeft = 0;
  var pausedPage = !!document.querySelector(".no-script-check");
  var warnedKey = "imh-exam-warned-" + attempt;
  var thresholds = [1, 5, 10];
  var warned = Number(sessionStorage.getItem(warnedKey) || 0) || null;
  function setRemaining(ms, isPaused) {
    paused = !!isPaused;
    pausedLeft = ms;
    deadline = performance.now() + ms;
    render();
  }
  function hms(ms) {
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
  }
  // Warnings at 10, 5 and 1 minute left: shown, and told to screen readers through live
  // regions (polite for 10 and 5, assertive for 1). Each is told once per attempt in this tab;
  // added time that lifts the clock above a threshold lets it be told again.
  function warn(left) {
    var reached = null;
    for (var i = 0; i < thresholds.length; i++) {
      if (left <= thresholds[i] * 60000) { reached = thresholds[i]; break; }
    }
    timer.parentNode.classList.toggle("warn", reached !== null);
    timer.parentNode.classList.toggle("urgent", reached === 1);
    if (reached === null || (warned !== null && reached > warned)) {
      if (warned !== null) { warned = reached; sessionStorage.setItem(warnedKey, String(reached || "")); }
      return;
    }
    if (warned !== null && reached >= warned) { return; }
    warned = reached;
    sessionStorage.setItem(warnedKey, String(reached));
    var polite = document.getElementById("time-warning");
    var urgent = document.getElementById("time-warning-urgent");
    var text = reached === 1 ? "1 minute left" : reached + " minutes left";
    if (reached === 1 && urgent) {
      if (polite) { polite.textContent = ""; }
      urgent.textContent = text + ". Your answers are saved as you go; the exam is submitted when the time is up.";
    } else if (polite) {
      polite.textContent = text + ".";
    }
  }
  function render() {
    if (!timer || deadline === null) { return; }
    var left = Math.max(0, paused ? pausedLeft : deadline - performance.now());
    timer.textContent = hms(left);
    if (!paused) { warn(left); }
    if (left === 0 && !paused) { window.location.href = "/exam/" + part + "/receipt"; }
  }
  function checkClock() {
    fetch("/exam/api/clock/" + part, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (b) {
        if (typeof b.remaining_ms !== "number") { return; }
        // The paused page goes back to the part once the clock runs again.
        if (pausedPage && !b.paused) { window.location.href = "/exam/" + part; return; }
        setRemaining(b.remaining_ms, b.paused);
      })
      .catch(function () {});
  }
  if (timer) {
    setRemaining(Number(timer.getAttribute("data-remaining-ms")), timer.getAttribute("data-paused") === "true");
    setInterval(render, 1000);
    // Ask the server now and then, so a pause, a resume or added time shows without a save.
    setInterval(checkClock, pausedPage ? 5000 : 15000);
  }

  // The candidate's display tools: text size and high contrast, applied at once (the
  // stylesheet reads the box's data attributes, so the server renders them too) and saved
  // with the attempt, so they hold after a reload or on another device.
  if (tools) {
    tools.hidden = false;
    tools.addEventListener("click", function (ev) {
      var b = ev.target.closest ? ev.target.closest("button") : null;
      if (!b) { return; }
      if (b.hasAttribute("data-size")) {
        var size = b.getAttribute("data-size");
        tools.setAttribute("data-size", size);
        Array.prototype.forEach.call(tools.querySelectorAll("button[data-size]"), function (o) {
          o.setAttribute("aria-pressed", o === b ? "true" : "false");
        });
        enqueue("@pref:size", size);
      } else if (b.id === "contrast") {
        var on = b.getAttribute("aria-pressed") !== "true";
        b.setAttribute("aria-pressed", on ? "true" : "false");
        tools.setAttribute("data-contrast", on ? "high" : "standard");
        enqueue("@pref:contrast", on ? "high" : "standard");
      }
    });
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
  // A page being left (a link, a form, a reload) also turns hidden as it unloads: that is not
  // the candidate leaving the exam. So a loss counts only when the page is not being left and
  // stays hidden for a moment; "focus-back" is told only after a loss that was told.
  var leaving = false;
  var lostTimer = null;
  var lostTold = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (leaving || lostTimer !== null) { return; }
      lostTimer = setTimeout(function () {
        lostTimer = null;
        if (document.hidden && !leaving) { lostTold = true; report("focus-lost"); }
      }, 1500);
    } else {
      if (lostTimer !== null) { clearTimeout(lostTimer); lostTimer = null; }
      if (lostTold) { lostTold = false; report("focus-back"); }
    }
  });
  document.addEventListener("copy", function () { report("copy"); });
  document.addEventListener("paste", function () { report("paste"); });

  // Keys: Alt+Shift with a letter, so no single key can be pressed by mistake (WCAG 2.1.4).
  // N next, P previous, R review, F flag; on Part One, 1-4 with Alt+Shift choose an option.
  document.addEventListener("keydown", function (ev) {
    if (!form || !ev.altKey || !ev.shiftKey || ev.ctrlKey || ev.metaKey) { return; }
    var key = ev.code;
    var click = function (sel) { var el = form.querySelector(sel); if (el) { ev.preventDefault(); el.click(); } };
    if (key === "KeyN") { click("button[value=next]"); }
    else if (key === "KeyP") { click("button[value=prev]"); }
    else if (key === "KeyR") { click("button[value=review]"); }
    else if (key === "KeyF") { click("input[name=flag]"); }
    else if (/^Digit[1-4]$/.test(key)) { click("#opt-" + (Number(key.slice(5)) - 1)); }
  });

  // Before leaving a page through a form, send what is waiting.
  if (form) { form.addEventListener("submit", function () { flush(); }); }
  flush();
})();
