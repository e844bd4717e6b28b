/* Listen in: plays a live call's audio, both sides mixed, with Web Audio.
 *
 * live.js feeds it the socket's "audio" messages (calls.runtime.listen): lists of
 * base64 G.711 mu-law payloads at 8 kHz for the caller and for the assistant,
 * about every 200 ms. Each side is scheduled back to back on its own cursor, a
 * little ahead of now to absorb jitter; the two sides overlap in the context's
 * destination, which mixes them. The assistant's audio arrives faster than real
 * time, as Twilio gets it, and queues like at Twilio; "cleared" (a barge-in)
 * drops that queue, as Twilio does. The caller's side never lags more than
 * MAX_CALLER_LAG_S behind: it skips ahead instead.
 */
(function () {
  "use strict";

  var RATE = 8000;
  var LEAD_S = 0.12;
  var MAX_CALLER_LAG_S = 0.5;

  // mu-law byte -> sample in [-1, 1] (ITU-T G.711), once.
  var ULAW = new Float32Array(256);
  for (var i = 0; i < 256; i++) {
    var u = ~i & 0xff;
    var magnitude = (((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 0x07);
    var sample = magnitude - 0x84;
    ULAW[i] = ((u & 0x80) ? -sample : sample) / 32768;
  }

  function decode(payloads) {
    var chunks = [];
    var total = 0;
    payloads.forEach(function (payload) {
      var bytes = atob(payload);
      chunks.push(bytes);
      total += bytes.length;
    });
    var samples = new Float32Array(total);
    var at = 0;
    chunks.forEach(function (bytes) {
      for (var j = 0; j < bytes.length; j++) { samples[at++] = ULAW[bytes.charCodeAt(j)]; }
    });
    return samples;
  }

  function Player() {
    this.context = null;
    this.output = null;
    this.cursors = { caller: 0, assistant: 0 };
    this.queued = [];  // assistant sources not yet played, for "cleared"
    this.batches = 0;
    this.samples = { caller: 0, assistant: 0 };  // scheduled so far, per side
  }

  /* Call from a click: browsers start audio only after a user gesture. */
  Player.prototype.start = function () {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { throw new Error("this browser has no Web Audio"); }
    this.context = new Context();
    this.output = this.context.createGain();
    this.output.gain.value = 0.9;  // two full-scale sides must not clip
    this.output.connect(this.context.destination);
    if (this.context.state === "suspended") { this.context.resume(); }
  };

  Player.prototype.play = function (message) {
    if (!this.context) { return; }
    this.batches += 1;
    if (message.cleared) { this.clearAssistant(); }
    this.schedule("caller", message.caller || []);
    this.schedule("assistant", message.assistant || []);
  };

  Player.prototype.schedule = function (side, payloads) {
    if (!payloads.length) { return; }
    var samples;
    try { samples = decode(payloads); } catch (e) { return; }  // not base64: skip
    if (!samples.length) { return; }
    var context = this.context;
    var buffer = context.createBuffer(1, samples.length, RATE);
    buffer.getChannelData(0).set(samples);
    var source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.output);
    var now = context.currentTime;
    var at = Math.max(this.cursors[side], now + LEAD_S);
    if (side === "caller" && at - now > MAX_CALLER_LAG_S) { at = now + LEAD_S; }
    source.start(at);
    this.cursors[side] = at + buffer.duration;
    this.samples[side] += samples.length;
    if (side === "assistant") {
      var queued = this.queued;
      queued.push(source);
      source.onended = function () {
        var index = queued.indexOf(source);
        if (index >= 0) { queued.splice(index, 1); }
      };
    }
  };

  Player.prototype.clearAssistant = function () {
    this.queued.forEach(function (source) {
      try { source.stop(); } catch (e) { /* already stopped */ }
    });
    this.queued = [];
    this.cursors.assistant = 0;
  };

  Player.prototype.stop = function () {
    if (this.context) { this.context.close(); }
    this.context = null;
    this.queued = [];
  };

  window.CallListen = { Player: Player, decode: decode };
}());
