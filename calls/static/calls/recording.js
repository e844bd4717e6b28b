// The call page's recording player: speed, seeking from the transcript and the
// level bars, and the turn being played highlighted. Loaded only when the page
// has a player (no inline script: the CSP allows scripts from this origin only).
(function () {
  "use strict";
  const player = document.getElementById("recording-player");
  const audio = document.getElementById("recording-audio");
  if (!player || !audio) return;
  const speed = document.getElementById("recording-speed");
  const levels = document.getElementById("recording-levels");
  const playhead = document.getElementById("recording-playhead");
  const durationMs = Number(player.dataset.durationMs) || 0;
  const rows = Array.from(document.querySelectorAll("#transcript li[data-offset-ms]"))
    .map((row) => ({ row, ms: Number(row.dataset.offsetMs) }))
    .filter((r) => Number.isFinite(r.ms))
    .sort((a, b) => a.ms - b.ms);
  let current = null;

  function seek(ms) {
    audio.currentTime = Math.max(0, ms / 1000);
    const playing = audio.play();
    if (playing && playing.catch) playing.catch(() => {}); // autoplay refused: seeked anyway
  }

  rows.forEach(({ row, ms }) => {
    row.classList.add("seekable");
    row.tabIndex = 0;
    row.title = "Play the recording from here";
    row.addEventListener("click", (event) => {
      if (event.target.closest("a, button, summary, details")) return;
      seek(ms);
    });
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        seek(ms);
      }
    });
  });

  if (speed) {
    speed.addEventListener("change", () => {
      audio.playbackRate = Number(speed.value) || 1;
    });
  }

  if (levels) {
    levels.addEventListener("click", (event) => {
      const box = levels.getBoundingClientRect();
      const total = (audio.duration && Number.isFinite(audio.duration)) ? audio.duration * 1000 : durationMs;
      seek(((event.clientX - box.left) / box.width) * total);
    });
  }

  function highlight() {
    const ms = audio.currentTime * 1000;
    let found = null;
    for (const r of rows) {
      if (r.ms <= ms) found = r.row;
      else break;
    }
    if (found !== current) {
      if (current) {
        current.classList.remove("playing");
        current.removeAttribute("aria-current");
      }
      if (found) {
        found.classList.add("playing");
        found.setAttribute("aria-current", "true");
      }
      current = found;
    }
    if (playhead) {
      const total = (audio.duration && Number.isFinite(audio.duration)) ? audio.duration * 1000 : durationMs;
      const x = total ? Math.min(100, (100 * ms) / total) : 0;
      playhead.setAttribute("x1", String(x));
      playhead.setAttribute("x2", String(x));
    }
  }
  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("seeked", highlight);
})();
