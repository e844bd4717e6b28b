/* Live updates for the live calls page and a live call's page.
 *
 * Talks to /ws/calls/live/ (calls.review.live.LiveCallsConsumer). The pages work without
 * this script: it only keeps them current. Every piece of data goes into the page
 * as text (textContent), never as markup.
 */
(function () {
  "use strict";

  var liveBody = document.getElementById("live-calls");
  var detailList = document.querySelector("#transcript[data-live-call]");
  var watchPanel = document.getElementById("watch");
  var watchList = document.getElementById("watch-transcript");
  if (!liveBody && !detailList) {
    return;
  }

  var STATUS_LABELS = {
    "queued": "Queued", "ringing": "Ringing", "in-progress": "In Progress",
    "completed": "Completed", "busy": "Busy", "failed": "Failed",
    "no-answer": "No Answer", "canceled": "Canceled", "rejected": "Rejected"
  };
  // calls.models.CallOutcome: the badge of a call that has ended.
  var OUTCOME_LABELS = {
    "answered": "Answered", "failed": "Failed", "rejected": "Rejected",
    "unanswered": "Unanswered", "voicemail": "Voicemail"
  };
  var LIVE_STATUSES = ["queued", "ringing", "in-progress"];
  // calls.review.tool_rows.DIAL_LABELS: how a transfer's dial ended.
  var DIAL_LABELS = {
    "completed": "answered, then ended", "answered": "answered", "busy": "busy",
    "no-answer": "no answer", "failed": "failed", "canceled": "canceled"
  };
  var socket = null;
  var retries = 0;
  var watching = detailList ? detailList.getAttribute("data-live-call") : null;
  // Set by the server from the viewer's calls.control_call permission; the links
  // only lead to confirmation pages, which check the permission again.
  var canControl = !!liveBody && liveBody.getAttribute("data-can-control") === "true";
  var timeFormat = makeTimeFormat(document.body.getAttribute("data-timezone"));
  // Listen in (listen.js; the button is there only with calls.listen_live_call).
  var listenButton = document.getElementById("listen-button");
  var listeningTo = null;
  var player = null;

  function makeTimeFormat(zone) {
    var options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    try {
      return new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: zone }, options));
    } catch (e) {
      return new Intl.DateTimeFormat(undefined, options);
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function clock(ms) {
    var total = Math.max(0, Math.floor(ms / 1000));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = String(total % 60).padStart(2, "0");
    if (hours) { return hours + ":" + String(minutes).padStart(2, "0") + ":" + seconds; }
    return minutes + ":" + seconds;
  }

  function setStatus(id, text) {
    var node = document.getElementById(id);
    if (node) { node.textContent = text; }
  }

  /* JSON text indented (calls.review.tool_rows.pretty_json), else as it came. */
  function prettyJson(text) {
    if (!text) { return ""; }
    try {
      var value = JSON.parse(text);
      if (value !== null && typeof value === "object") { return JSON.stringify(value, null, 2); }
    } catch (e) { /* not JSON: shown as it came */ }
    return text;
  }

  /* A tool the assistant called, folded: the tool branch of _turn.html. */
  function renderTool(entry, fresh) {
    var li = el("li", "turn turn-tool" + (fresh ? " is-new" : ""));
    li.setAttribute("data-seq", entry.seq);
    var details = el("details", "tool-call");
    var summary = el("summary");
    var status = entry.tool_status || "";
    summary.appendChild(el("span", "who", "Tool"));
    summary.appendChild(el("code", "tool-name", entry.tool_name || "(unnamed)"));
    summary.appendChild(el("span", "tool-status tool-status-" + (status || "none"), status || "no status"));
    if (entry.duration_ms != null) { summary.appendChild(el("span", "tool-duration", entry.duration_ms + " ms")); }
    summary.appendChild(el("span", "offset", clock(entry.offset_ms || 0)));
    details.appendChild(summary);
    details.appendChild(el("p", "tool-label", "Arguments"));
    details.appendChild(el("pre", "tool-arguments", prettyJson(entry.tool_arguments) || "(none)"));
    details.appendChild(el("p", "tool-label", status === "error" || status === "timeout" ? "Error" : "Output"));
    details.appendChild(el("pre", "tool-output", prettyJson(entry.text) || "(none)"));
    li.appendChild(details);
    return li;
  }

  /* Transcript turns: the same markup as templates/calls/_turn.html. */
  function renderTurn(entry, fresh) {
    if (entry.role === "tool") { return renderTool(entry, fresh); }
    var role = entry.role === "caller" || entry.role === "assistant" ? entry.role : "system";
    var li = el("li", "turn turn-" + role + (fresh ? " is-new" : ""));
    if (entry.interrupted) { li.classList.add("interrupted"); }
    if (entry.failed) { li.classList.add("failed"); }
    li.setAttribute("data-seq", entry.seq);
    var meta = el("p", "turn-meta");
    meta.appendChild(el("span", "who", { caller: "Caller", assistant: "Assistant" }[role] || "Event"));
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(el("span", "offset", clock(entry.offset_ms || 0)));
    li.appendChild(meta);
    if (entry.failed) { li.appendChild(el("p", "turn-failed", "Transcription failed" + (entry.text ? ":" : ""))); }
    if (entry.text) {
      li.appendChild(el("p", "turn-text", entry.text));
    } else if (!entry.failed) {
      li.appendChild(el("p", "turn-text empty", "(no text)"));
    }
    if (entry.interrupted) { li.appendChild(el("p", "turn-interrupted", "— interrupted by the caller")); }
    if (role === "assistant" && (entry.reply_latency_ms != null || entry.heard_latency_ms != null)) {
      var latency = el("p", "turn-latency");
      var sent = entry.reply_latency_ms, heard = entry.heard_latency_ms, engine = entry.engine_latency_ms;
      if (heard != null) { latency.appendChild(el("strong", "latency-headline", "caller stopped → heard " + heard + " ms")); }
      if (sent != null) { latency.appendChild(el("span", "", "sent " + sent + " ms")); }
      if (sent != null && engine != null && engine <= sent) {
        latency.appendChild(el("span", "", "engine " + engine + " ms"));
        latency.appendChild(el("span", "", "silence wait " + (sent - engine) + " ms"));
      }
      if (sent != null && heard != null && heard >= sent) { latency.appendChild(el("span", "", "playback " + (heard - sent) + " ms")); }
      li.appendChild(latency);
    }
    return li;
  }

  /* Insert a turn in seq order; an existing one is replaced only for a new event
     (the server-rendered turns carry figures the live payload may lack). */
  /* What cut an interrupted assistant turn off, by the event after it (as
     calls/review/turn_rows.py says it on the call page). */
  var CUT_OFF_BY = [
    ["DTMF ", "cut off by the caller's key press"],
    ["Transferred to ", "cut off by the transfer"],
    ["Hung up by ", "cut off by the hang-up"]
  ];

  function relabelCutOff(list, entry) {
    if (entry.role !== "system" || !entry.text) { return; }
    var label = null;
    for (var i = 0; i < CUT_OFF_BY.length; i++) {
      if (entry.text.indexOf(CUT_OFF_BY[i][0]) === 0) { label = CUT_OFF_BY[i][1]; }
    }
    if (!label) { return; }
    var before = null;
    var items = list.querySelectorAll("li[data-seq]");
    for (var j = 0; j < items.length; j++) {
      if (Number(items[j].getAttribute("data-seq")) < Number(entry.seq)) { before = items[j]; }
    }
    var note = before && before.classList.contains("turn-assistant") ?
      before.querySelector(".turn-interrupted") : null;
    if (note) { note.textContent = "\u2014 " + label; }
  }

  function upsertTurn(list, entry, isNew) {
    relabelCutOff(list, entry);
    var fresh = renderTurn(entry, isNew);
    var items = list.querySelectorAll("li[data-seq]");
    for (var i = 0; i < items.length; i++) {
      var seq = Number(items[i].getAttribute("data-seq"));
      if (seq === Number(entry.seq)) {
        if (isNew) { list.replaceChild(fresh, items[i]); }
        return;
      }
      if (seq > Number(entry.seq)) { list.insertBefore(fresh, items[i]); return; }
    }
    list.appendChild(fresh);
    var none = document.getElementById("no-turns");
    if (none) { none.hidden = true; }
  }

  function transcriptList() {
    return detailList || watchList;
  }

  /* Live calls table. */
  /* The call list's tags (templates/calls/_call_table.html): where the call was
     transferred (the number as masked for this viewer) and how many handoffs. */
  function addToolBadges(cell, call) {
    if (call.transfer_to || call.transfer_status) {
      var dial = DIAL_LABELS[call.transfer_status] || call.transfer_status;
      var text = "\u2192 " + (call.transfer_to || "?") + (dial ? " (" + dial + ")" : "");
      var tag = el("span", "tag tag-transferred", text);
      tag.title = "Transferred to " + (call.transfer_to || "an unknown number") +
        (dial ? "; the dial: " + dial : "");
      cell.appendChild(document.createTextNode(" "));
      cell.appendChild(tag);
    }
    if (call.handoffs > 0) {
      var many = call.handoffs === 1 ? "" : "s";
      var handoff = el("span", "tag tag-handoff", call.handoffs + " handoff" + many);
      handoff.title = "Handed to another assistant " + call.handoffs + " time" + many;
      cell.appendChild(document.createTextNode(" "));
      cell.appendChild(handoff);
    }
  }

  function callRow(call) {
    var tr = el("tr");
    tr.setAttribute("data-call-sid", call.call_sid);
    var since = call.started_at || call.created_at;
    var started = el("td");
    started.setAttribute("data-label", "Started");
    started.textContent = since ? timeFormat.format(new Date(call.created_at || since)) : "—";
    tr.appendChild(started);
    [["From", call.from, "number"], ["To", call.to, "number"], ["Assistant", call.assistant, ""]]
      .forEach(function (cell) {
        var td = el("td", cell[2], cell[1] || "—");
        td.setAttribute("data-label", cell[0]);
        tr.appendChild(td);
      });
    var status = el("td");
    status.setAttribute("data-label", "Status");
    var badge = el("span", "badge status-" + call.status);
    var dot = el("span", "live-dot");
    dot.setAttribute("aria-hidden", "true");
    badge.appendChild(dot);
    badge.appendChild(document.createTextNode(STATUS_LABELS[call.status] || call.status));
    status.appendChild(badge);
    addToolBadges(status, call);
    tr.appendChild(status);
    var elapsed = el("td", "num elapsed", "");
    elapsed.setAttribute("data-label", "Elapsed");
    if (since) {
      elapsed.setAttribute("data-since", since);
      elapsed.textContent = clock(Date.now() - Date.parse(since));
    }
    tr.appendChild(elapsed);
    var actions = el("td", "actions");
    actions.setAttribute("data-label", "Actions");
    var link = el("a", "", "Open");
    link.href = "/calls/" + encodeURIComponent(call.call_sid) + "/";
    actions.appendChild(link);
    if (canControl) { addControlLinks(actions, call.call_sid); }
    tr.appendChild(actions);
    addWatchButton(tr);
    return tr;
  }

  /* The same links as templates/calls/_control_links.html: plain links to the
     confirmation pages, which do the work without this script. */
  function addControlLinks(actions, sid) {
    [["Hang up", "hangup", "control-link control-hangup"], ["Transfer", "transfer", "control-link"]]
      .forEach(function (spec) {
        var link = el("a", spec[2], spec[0]);
        link.href = "/calls/" + encodeURIComponent(sid) + "/" + spec[1] + "/";
        link.appendChild(el("span", "visually-hidden", " call " + sid));
        actions.appendChild(document.createTextNode(" "));
        actions.appendChild(link);
      });
  }

  function addWatchButton(tr) {
    var sid = tr.getAttribute("data-call-sid");
    var actions = tr.querySelector(".actions");
    if (!actions || actions.querySelector("button")) { return; }
    var button = el("button", "", "Watch");
    button.type = "button";
    button.setAttribute("aria-label", "Watch the transcript of call " + sid);
    button.addEventListener("click", function () { watch(sid); });
    actions.insertBefore(button, actions.firstChild);
  }

  function findRow(sid) {
    var rows = liveBody.querySelectorAll("tr[data-call-sid]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-call-sid") === sid) { return rows[i]; }
    }
    return null;
  }

  function updateCount() {
    var count = liveBody.querySelectorAll("tr[data-call-sid]").length;
    setStatus("live-count", count);
    var empty = document.getElementById("live-empty");
    if (empty) { empty.hidden = count > 0; }
  }

  function showCall(call, state) {
    if (!liveBody) { return; }
    var row = findRow(call.call_sid);
    var over = state === "ended" || LIVE_STATUSES.indexOf(call.status) < 0;
    if (over) {
      if (row) { row.parentNode.removeChild(row); }
    } else if (row) {
      liveBody.replaceChild(callRow(call), row);
    } else {
      liveBody.insertBefore(callRow(call), liveBody.firstChild);
    }
    updateCount();
  }

  function callChanged(call, state) {
    showCall(call, state);
    if (call.call_sid !== watching) { return; }
    var over = state === "ended" || LIVE_STATUSES.indexOf(call.status) < 0;
    var badge = document.getElementById("call-status");
    if (badge && over && OUTCOME_LABELS[call.outcome]) {
      badge.className = "badge outcome-" + call.outcome;
      badge.textContent = OUTCOME_LABELS[call.outcome];
    } else if (badge) {
      badge.className = "badge status-" + call.status;
      badge.textContent = STATUS_LABELS[call.status] || call.status;
    }
    if (over) {
      if (listeningTo === call.call_sid) { stopListening("The call has ended."); }
      var controls = document.getElementById("call-controls");
      if (controls) { controls.hidden = true; }  // nothing left to hang up
      if (detailList) {
        // The call's page shows its final state (outcome, end reason, figures):
        // the server renders it once the call has ended, so fetch it again.
        setStatus("live-status", "The call has ended. Showing its final figures…");
        window.setTimeout(function () { window.location.reload(); }, 300);
      } else {
        setStatus("watch-status", "The call has ended. Reload for the final figures.");
      }
    }
  }

  /* Listen in to the watched call, or stop. */
  function setListening(sid) {
    listeningTo = sid;
    if (!listenButton) { return; }
    listenButton.textContent = sid ? "Stop listening" : "Listen in";
    listenButton.setAttribute("aria-pressed", sid ? "true" : "false");
  }

  function stopListening(note) {
    if (listeningTo) { send({ unlisten: listeningTo }); }
    if (player) { player.stop(); }
    player = null;
    window.callListener = null;
    setListening(null);
    setStatus("listen-status", note || "");
  }

  function toggleListening() {
    if (listeningTo) { stopListening(); return; }
    if (!watching || !window.CallListen) { return; }
    player = new window.CallListen.Player();
    try {
      player.start();
    } catch (e) {
      player = null;
      setStatus("listen-status", "Cannot play audio here: " + e.message);
      return;
    }
    window.callListener = player;  // for tests and the curious
    setListening(watching);
    setStatus("listen-status", "Connecting the audio…");
    send({ listen: watching });
  }

  /* The assistant's words as generated: a provisional turn, replaced by the
     final one (same seq) when its row is written. */
  function appendDelta(seq, text) {
    var list = transcriptList();
    var item = list.querySelector('li[data-seq="' + Number(seq) + '"]');
    if (!item) {
      upsertTurn(list, { seq: seq, role: "assistant", text: "" }, true);
      item = list.querySelector('li[data-seq="' + Number(seq) + '"]');
      if (!item) { return; }
      item.classList.add("partial");
      var body = item.querySelector(".turn-text");
      if (body) { body.textContent = ""; body.classList.remove("empty"); }
    }
    if (!item.classList.contains("partial")) { return; }  // already final
    var node = item.querySelector(".turn-text");
    if (node) { node.textContent += text; }
  }

  function watch(sid) {
    if (listeningTo && listeningTo !== sid) { stopListening(); }
    if (watching && watching !== sid) { send({ unsubscribe: watching }); }
    watching = sid;
    watchList.textContent = "";
    watchPanel.hidden = false;
    setStatus("watch-sid", sid);
    setStatus("watch-status", "Waiting for turns…");
    document.getElementById("watch-link").href = "/calls/" + encodeURIComponent(sid) + "/";
    send({ subscribe: sid });
    document.getElementById("watch-heading").scrollIntoView({ block: "start" });
  }

  function handle(message) {
    if (message.type === "snapshot" && liveBody) {
      liveBody.textContent = "";
      message.calls.forEach(function (call) { liveBody.appendChild(callRow(call)); });
      updateCount();
    } else if (message.type === "call") {
      callChanged(message.call, message.state);
    } else if (message.type === "call_transcript" && message.call.call_sid === watching) {
      message.entries.forEach(function (entry) { upsertTurn(transcriptList(), entry, false); });
      if (watchList && !detailList) { setStatus("watch-status", "Following the call live."); }
      callChanged(message.call, LIVE_STATUSES.indexOf(message.call.status) < 0 ? "ended" : "updated");
    } else if (message.type === "transcript" && message.call_sid === watching) {
      upsertTurn(transcriptList(), message.entry, true);
    } else if (message.type === "transcript_delta" && message.call_sid === watching) {
      appendDelta(message.seq, message.text);
    } else if (message.type === "audio" && player && message.call_sid === listeningTo) {
      player.play(message);
    } else if (message.type === "listening" && message.call_sid === listeningTo) {
      setStatus("listen-status", message.on
        ? "Listening: both sides, about half a second behind." : "");
    } else if (message.type === "error" && listeningTo && player && !player.batches) {
      stopListening(message.error);
    }
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(message)); }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/calls/live/");
    socket.addEventListener("open", function () {
      retries = 0;
      setStatus("live-status", detailList ? "This call is in progress: new turns appear as they complete."
        : "Live: the list updates as calls start and end.");
      if (watching) { send({ subscribe: watching }); }
      if (listeningTo) { send({ listen: listeningTo }); }
    });
    socket.addEventListener("message", function (event) {
      try { handle(JSON.parse(event.data)); } catch (e) { console.error("live update failed", e); }
    });
    socket.addEventListener("close", function () {
      setStatus("live-status", "Live updates disconnected; reconnecting…");
      retries += 1;
      window.setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, retries)));
    });
  }

  function tick() {
    document.querySelectorAll(".elapsed[data-since]").forEach(function (cell) {
      var since = Date.parse(cell.getAttribute("data-since"));
      if (!isNaN(since)) { cell.textContent = clock(Date.now() - since); }
    });
  }

  if (listenButton) { listenButton.addEventListener("click", toggleListening); }
  if (liveBody) {
    liveBody.querySelectorAll("tr[data-call-sid]").forEach(addWatchButton);
    document.getElementById("watch-stop").addEventListener("click", function () {
      if (listeningTo) { stopListening(); }
      if (watching) { send({ unsubscribe: watching }); }
      watching = null;
      watchPanel.hidden = true;
    });
    window.setInterval(tick, 1000);
  }
  connect();
}());
