// openqwop's page: a canvas renderer shared by two transports.
//   live:   states stream from the host's WebSocket (/ws); keys pressed here go back to it.
//   replay: a recorded raw state sequence is played back (index.html?replay=URL or qwopReplay(data)).
// window.qwopAdapter exposes the game to the Selenium bridge (qwopkit/adapter/browser.py).
// Message formats: docs/game-page.md. World units: 10 units = 1 metre, +y points down.
"use strict";

(function () {
  const VERSION = "openqwop-page/1";
  const KEY_BITS = { q: 1, w: 2, o: 4, p: 8 };
  const BODY_BLOCK = 12 * 6; // x, y, angle, vx, vy, omega per body; the tail holds 5 fields

  // ------------------------------------------------------------------ drawing (no transport here)
  // Drawing order, back to front: the runner's right side is the far side.
  const DRAW_ORDER = [
    "rightArm", "rightForearm", "rightThigh", "rightCalf", "rightFoot",
    "torso", "head",
    "leftThigh", "leftCalf", "leftFoot", "leftArm", "leftForearm",
  ];
  const COLOURS = {
    torso: "#2f62b0", head: "#efc09a",
    leftArm: "#efc09a", leftForearm: "#efc09a", rightArm: "#c8966f", rightForearm: "#c8966f",
    leftThigh: "#f2f2f2", rightThigh: "#c9c9c9",
    leftCalf: "#efc09a", rightCalf: "#c8966f",
    leftFoot: "#d23a2c", rightFoot: "#9a2a20",
  };

  function createRenderer(canvas) {
    const ctx = canvas.getContext("2d");
    let geo = null;

    function resize() {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
      const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    }

    function box(x, y, angle, w, h, fill, radius) {
      ctx.save();
      ctx.translate(x, y);
      ctx.rotate(angle); // Box2D angles with +y down turn the same way as the canvas
      ctx.beginPath();
      ctx.roundRect(-w / 2, -h / 2, w, h, radius);
      ctx.fillStyle = fill;
      ctx.fill();
      ctx.stroke();
      ctx.restore();
    }

    function text(str, x, y, size, colour, align, weight) {
      ctx.font = (weight || "bold") + " " + Math.round(size) + "px Helvetica, Arial, sans-serif";
      ctx.textAlign = align || "center";
      ctx.textBaseline = "middle";
      ctx.fillStyle = colour;
      ctx.fillText(str, x, y);
    }

    // view: {frame, mode, connected, message, hint, label}
    function draw(view) {
      resize();
      const W = canvas.width, H = canvas.height;
      const s = H / 30; // pixels per unit: about 17 units of runner fill the middle of the view
      const frame = view.frame;
      if (!geo || !frame) {
        ctx.fillStyle = "#1b1b1b";
        ctx.fillRect(0, 0, W, H);
        text(view.message || "connecting to the game host...", W / 2, H / 2, s * 0.9, "#ddd");
        return;
      }
      const camX = frame.poses[0][0]; // the camera follows the torso
      const gy = H * 0.74; // screen y of the ground's top
      const sx = (x) => (x - camX) * s + W * 0.4;
      const sy = (y) => (y - geo.ground_top_y) * s + gy;
      const left = camX - (W * 0.4) / s, right = camX + (W * 0.6) / s;

      // Sky and stands (the stands scroll at half speed for depth).
      const sky = ctx.createLinearGradient(0, 0, 0, gy);
      sky.addColorStop(0, "#7fb8e6");
      sky.addColorStop(1, "#d8eefa");
      ctx.fillStyle = sky;
      ctx.fillRect(0, 0, W, gy);
      const standTop = gy - 9 * s, standBottom = gy - 1.2 * s;
      ctx.fillStyle = "#6f7a83";
      ctx.fillRect(0, standTop, W, standBottom - standTop);
      const seat = 1.6 * s, crowdX = camX * s * 0.5;
      const first = Math.floor(crowdX / seat) - 1;
      for (let i = first; i < first + W / seat + 3; i++) {
        for (let row = 0; row < 4; row++) {
          const hash = Math.abs(Math.sin(i * 12.9898 + row * 78.233) * 43758.5453) % 1;
          if (hash < 0.25) continue;
          const px = i * seat - crowdX + (row % 2) * seat * 0.5;
          const py = standTop + (row + 0.6) * (standBottom - standTop) / 4.3;
          ctx.fillStyle = ["#b86b69", "#c9a46e", "#7fa9b8", "#b9bdc0", "#8f80a6"][Math.floor(hash * 20) % 5];
          ctx.beginPath();
          ctx.arc(px, py, seat * 0.28, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
      ctx.fillStyle = "#3c444b";
      ctx.fillRect(0, standBottom, W, gy - standBottom);

      // Track: the running surface from the ground's top down, with lane lines.
      ctx.fillStyle = "#c4583c";
      ctx.fillRect(0, gy, W, H - gy);
      ctx.fillStyle = "rgba(255,255,255,0.55)";
      for (const depth of [0.35, 2.2, 5.0]) ctx.fillRect(0, gy + depth * s, W, Math.max(1, 0.12 * s));
      ctx.fillStyle = "#6b2e20";
      ctx.fillRect(0, gy, W, Math.max(2, 0.18 * s));

      // Sand pit past the jump line.
      if (right > geo.sand_pit_x) {
        ctx.fillStyle = "#e3c07a";
        ctx.fillRect(sx(geo.sand_pit_x), gy - 0.1 * s, (geo.ground_end_x - geo.sand_pit_x) * s, 1.6 * s);
      }

      // A short tick every metre along the track's edge, so running speed reads at a glance.
      ctx.fillStyle = "rgba(255,255,255,0.75)";
      const metre = geo.units_per_metre;
      for (let x = Math.ceil(left / metre) * metre; x <= right; x += metre) {
        if (x >= 0 && x <= geo.finish_x) ctx.fillRect(sx(x) - 0.06 * s, gy, 0.12 * s, 0.9 * s);
      }

      // Metre marks every 10 m (100 units), the start line and the finish line.
      const step = 10 * geo.units_per_metre;
      for (let x = Math.ceil(left / step) * step; x <= right; x += step) {
        if (x < 0 || x > geo.finish_x) continue;
        const px = sx(x);
        const line = x === 0 || x === geo.finish_x;
        ctx.fillStyle = line ? "#ffffff" : "rgba(255,255,255,0.8)";
        ctx.fillRect(px - (line ? 0.35 : 0.12) * s, gy, (line ? 0.7 : 0.24) * s, H - gy);
        const label = x === 0 ? "START" : x === geo.finish_x ? "FINISH" : Math.round(x / geo.units_per_metre) + "m";
        text(label, px + 0.7 * s, gy + 3.6 * s, s * 1.1, "#ffffff", "left");
        // The same mark on a board above the stands, where the runner never hides it.
        ctx.fillStyle = "#f5f5f5";
        ctx.fillRect(px - 2 * s, standTop - 2.2 * s, 4 * s, 1.7 * s);
        text(Math.round(x / geo.units_per_metre) + "m", px, standTop - 1.35 * s, s * 1.0, "#2b2b2b");
      }
      if (left <= geo.finish_x && geo.finish_x <= right) { // chequered finish flag band
        const fx = sx(geo.finish_x), c = 0.5 * s;
        for (let r = 0; r < 6; r++) {
          ctx.fillStyle = r % 2 ? "#111" : "#fff";
          ctx.fillRect(fx - c, gy - 12 * s + r * c, c, c);
          ctx.fillStyle = r % 2 ? "#fff" : "#111";
          ctx.fillRect(fx, gy - 12 * s + r * c, c, c);
        }
        ctx.fillStyle = "#555";
        ctx.fillRect(fx - 0.1 * s, gy - 12 * s, 0.2 * s, 12 * s);
      }

      // Hurdle (base and bar), then the runner: each body a rectangle of its real size.
      ctx.lineWidth = Math.max(1, 0.08 * s);
      ctx.strokeStyle = "#222";
      const hurdle = frame.hurdle || geo.hurdle.map((h) => [h.x, h.y, 0]);
      geo.hurdle.forEach((h, i) => {
        const [x, y, a] = hurdle[i];
        if (x < left - 10 || x > right + 10) return;
        box(sx(x), sy(y), a, h.width * s, h.height * s, i === 0 ? "#777" : "#f4f4f4", 0.1 * s);
        if (i === 1) { // red stripes on the bar
          ctx.save();
          ctx.translate(sx(x), sy(y));
          ctx.rotate(a);
          ctx.fillStyle = "#d23a2c";
          for (let k = 0; k < 3; k++) ctx.fillRect(-h.width * s / 2, (-h.height / 2 + 0.5 + k * 2.4) * s, h.width * s, 1.1 * s);
          ctx.restore();
        }
      });

      const index = {};
      geo.bodies.forEach((b, i) => { index[b.name] = i; });
      for (const name of DRAW_ORDER) {
        const b = geo.bodies[index[name]];
        const [x, y, a] = frame.poses[index[name]];
        box(sx(x), sy(y), a, b.width * s, b.height * s, COLOURS[name], Math.min(b.width, b.height) * 0.3 * s);
        if (name === "head") { // a face, so the runner's heading reads at a glance
          ctx.save();
          ctx.translate(sx(x), sy(y));
          ctx.rotate(a);
          ctx.fillStyle = "#3b2616";
          ctx.fillRect(-b.width * s / 2, -b.height * s / 2, b.width * s, 0.55 * s); // hair
          ctx.beginPath();
          ctx.arc(0.55 * s, -0.2 * s, 0.17 * s, 0, 2 * Math.PI);
          ctx.fill();
          ctx.restore();
        }
        if (name === "torso") { // the runner's bib
          ctx.save();
          ctx.translate(sx(x), sy(y));
          ctx.rotate(a);
          ctx.fillStyle = "#ffffff";
          ctx.fillRect(-0.9 * s, -0.8 * s, 1.8 * s, 1.6 * s);
          ctx.restore();
        }
      }

      drawHud(view, W, H, s);
    }

    function drawHud(view, W, H, s) {
      const f = view.frame;
      const ended = f.status === "fell" || f.status === "finished";
      const time = ended && f.end_time != null ? f.end_time : f.hud_time;
      ctx.fillStyle = "rgba(0,0,0,0.45)";
      ctx.fillRect(W / 2 - 9 * s, 0.4 * s, 18 * s, 3.6 * s);
      text(f.distance.toFixed(1) + " metres", W / 2, 1.6 * s, s * 1.5, "#ffffff");
      text(time.toFixed(1) + " s", W / 2, 3.2 * s, s * 0.9, "#e8e8e8", "center", "normal");

      // Q W O P indicators: lit while held.
      ["q", "w", "o", "p"].forEach((k, i) => {
        const on = (view.keys & KEY_BITS[k]) !== 0;
        const x = 0.8 * s + i * 2.6 * s, y = 0.8 * s, size = 2.2 * s;
        ctx.fillStyle = on ? "#ffd24a" : "rgba(0,0,0,0.45)";
        ctx.fillRect(x, y, size, size);
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = Math.max(1, 0.08 * s);
        ctx.strokeRect(x, y, size, size);
        text(k.toUpperCase(), x + size / 2, y + size / 2, s * 1.2, on ? "#222" : "#ffffff");
      });

      const status = view.mode === "replay" ? view.label : f.status + (view.connected ? "" : " (disconnected)");
      text(status, W - 0.8 * s, 1.3 * s, s * 0.8, "#ffffff", "right");
      text("update " + f.updates, W - 0.8 * s, 2.5 * s, s * 0.65, "#e8e8e8", "right", "normal");

      // Progress along the 100 m, with the hurdle.
      const bx = W * 0.2, bw = W * 0.6, by = H - 1.2 * s;
      ctx.fillStyle = "rgba(0,0,0,0.4)";
      ctx.fillRect(bx, by, bw, 0.5 * s);
      ctx.fillStyle = "#f4f4f4";
      ctx.fillRect(bx + bw * 0.5 - 0.1 * s, by - 0.3 * s, 0.2 * s, 1.1 * s);
      const p = Math.min(1, Math.max(0, f.distance / 100));
      ctx.fillStyle = "#ffd24a";
      ctx.beginPath();
      ctx.arc(bx + bw * p, by + 0.25 * s, 0.45 * s, 0, 2 * Math.PI);
      ctx.fill();

      if (ended) {
        ctx.fillStyle = "rgba(0,0,0,0.6)";
        ctx.fillRect(W / 2 - 14 * s, H * 0.3 - 3 * s, 28 * s, 7 * s);
        const head = f.status === "fell" ? "You fell!" : "Finished!";
        text(head, W / 2, H * 0.3 - 1.4 * s, s * 1.7, f.status === "fell" ? "#ff8a7a" : "#9fe59a");
        text(f.distance.toFixed(1) + " metres in " + time.toFixed(1) + " s", W / 2, H * 0.3 + 0.6 * s, s * 1.0, "#fff", "center", "normal");
        text(view.hint || "press R to restart", W / 2, H * 0.3 + 2.4 * s, s * 0.9, "#ffd24a");
      } else if (view.message) {
        text(view.message, W / 2, H * 0.3, s * 0.9, "#ffffff");
      }
    }

    return { setGeometry: (g) => { geo = g; }, geometry: () => geo, draw };
  }

  // A frame (what draw needs) from a raw state vector, for replays.
  function frameFromState(state, geo, updates, hurdle) {
    const n = state.length;
    const poses = geo.bodies.map((_, i) => [state[i * 6], state[i * 6 + 1], state[i * 6 + 2]]);
    const status = state[n - 1] ? "finished" : state[n - 2] ? "fell" : "running";
    return {
      state, poses, hurdle: hurdle || null, distance: state[n - 5], hud_time: state[n - 4],
      keys: state[n - 3], held: state[n - 3], status, updates,
    };
  }

  // ------------------------------------------------------------------ the page
  const canvas = document.getElementById("game");
  const renderer = createRenderer(canvas);
  const params = new URLSearchParams(location.search);
  const page = {
    mode: params.has("replay") ? "replay" : "live",
    frame: null, connected: false, held: 0, localKeys: 0, message: null, ws: null,
    replay: null,
  };

  function view() {
    if (page.mode === "replay") {
      const r = page.replay;
      const label = r ? "replay " + (r.index + 1) + "/" + r.frames.length + (r.playing ? "" : " (paused)") : "replay";
      return { frame: page.frame, mode: "replay", connected: false, keys: page.frame ? page.frame.keys : 0,
               label, message: page.message, hint: "press R to replay from the start" };
    }
    return { frame: page.frame, mode: "live", connected: page.connected, keys: page.held,
             message: page.connected ? null : page.frame ? "reconnecting to the game host..." : page.message };
  }

  // Draw only when something changed: a headless or software-rendered browser then stays cheap.
  let drawn = null, drawnSize = "";
  function render() {
    if (page.mode === "replay") { advanceReplay(); updateControls(); }
    const v = view();
    const size = canvas.clientWidth + "x" + canvas.clientHeight;
    const key = [v.frame, v.keys, v.connected, v.label, v.message, v.mode];
    if (!drawn || size !== drawnSize || key.some((x, i) => x !== drawn[i])) {
      renderer.draw(v);
      drawn = key;
      drawnSize = size;
    }
    requestAnimationFrame(render);
  }

  // ------------------------------------------------------------------ live transport
  function send(msg) {
    if (page.ws && page.ws.readyState === WebSocket.OPEN) page.ws.send(JSON.stringify(msg));
  }

  function connect() {
    if (page.mode !== "live") return;
    const url = params.get("ws") || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    let ws;
    try { ws = new WebSocket(url); } catch (err) { page.message = "cannot reach the game host: " + err; return; }
    page.ws = ws;
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "hello") {
        renderer.setGeometry(msg.geometry);
        page.connected = true;
        send({ type: "keys", keys: page.localKeys }); // keys held while disconnected
      } else if (msg.type === "state") {
        page.frame = msg;
        page.held = msg.held;
      } else if (msg.type === "held") {
        page.held = msg.held;
      }
    };
    ws.onclose = () => {
      page.connected = false;
      page.ws = null;
      if (page.mode === "live") setTimeout(connect, 1000);
    };
  }

  function keyName(event) {
    const k = (event.key || "").toLowerCase();
    if (k in KEY_BITS || k === "r" || k === " " || k.startsWith("arrow") || k === "home" || k === "escape") return k;
    if (event.code && event.code.startsWith("Key")) return event.code.slice(3).toLowerCase();
    return null;
  }

  window.addEventListener("keydown", (event) => {
    const k = keyName(event);
    if (k === null) return;
    event.preventDefault();
    if (page.mode === "replay") return replayKey(k, event.repeat);
    if (event.repeat) return; // held keys come from presses and releases, not auto-repeat
    if (k === "r") return send({ type: "restart" });
    if (k === "escape") return send({ type: "end" }); // a recording session ends on Esc
    if (!(k in KEY_BITS) || page.localKeys & KEY_BITS[k]) return;
    page.localKeys |= KEY_BITS[k];
    send({ type: "down", key: k });
  });
  window.addEventListener("keyup", (event) => {
    const k = keyName(event);
    if (k === null || page.mode === "replay" || !(k in KEY_BITS)) return;
    event.preventDefault();
    page.localKeys &= ~KEY_BITS[k];
    send({ type: "up", key: k });
  });
  // A window that loses focus never sees the key-ups: release everything rather than run on.
  window.addEventListener("blur", () => {
    if (page.mode !== "live" || !page.localKeys) return;
    for (const k of Object.keys(KEY_BITS)) if (page.localKeys & KEY_BITS[k]) send({ type: "up", key: k });
    page.localKeys = 0;
  });

  // ------------------------------------------------------------------ replay transport
  // data: {states: [[...raw state...], ...], geometry?, fps?, hurdle?: [[base, bar], ...]} or a bare
  // list of states. Without geometry the host's /geometry.json is used.
  async function qwopReplay(data) {
    if (page.ws) { page.mode = "replay"; page.ws.close(); }
    page.mode = "replay";
    page.connected = false;
    if (Array.isArray(data)) data = { states: data };
    let geo = data.geometry;
    if (!geo) geo = await (await fetch("geometry.json")).json();
    renderer.setGeometry(geo);
    const frames = data.states.map((st, i) => frameFromState(st, geo, i, data.hurdle ? data.hurdle[i] : null));
    // The HUD's time stops at the first fallen or finished state, as it does in the game.
    const end = frames.find((f) => f.status !== "running");
    for (const f of frames) f.end_time = end ? end.hud_time : null;
    page.replay = { frames, fps: data.fps || geo.updates_per_second, speed: 1, index: 0, playing: true,
                    t0: performance.now() };
    page.message = frames.length ? null : "the replay is empty";
    page.frame = frames[0] || null;
    if (data.controls) buildControls();
    return frames.length;
  }

  // Frames per real second: the recording's rate times the chosen speed.
  function replayRate(r) { return r.fps * r.speed; }

  function advanceReplay() {
    const r = page.replay;
    if (!r || !r.frames.length) return;
    if (r.playing) {
      r.index = Math.min(r.frames.length - 1, Math.floor((performance.now() - r.t0) / 1000 * replayRate(r)));
      if (r.index === r.frames.length - 1) r.playing = false;
    }
    page.frame = r.frames[r.index];
  }

  function seek(i, play) {
    const r = page.replay;
    if (!r) return;
    r.index = Math.max(0, Math.min(r.frames.length - 1, i));
    r.playing = !!play;
    r.t0 = performance.now() - (r.index / replayRate(r)) * 1000;
    page.frame = r.frames[r.index];
  }

  function setSpeed(x) {
    const r = page.replay;
    if (!r || !(x > 0)) return;
    r.speed = x;
    seek(r.index, r.playing); // keep the current frame, continue at the new rate
  }

  function togglePlay() {
    const r = page.replay;
    if (r) seek(r.index >= r.frames.length - 1 ? 0 : r.index, !r.playing);
  }

  // On-screen replay controls (replay data with controls: true, as the Streamlit app embeds it):
  // play / pause, a scrub bar over every frame, the speed, and the time shown.
  const SPEEDS = [0.25, 0.5, 1, 2, 4];
  let controls = null;
  function buildControls() {
    if (controls) return;
    const bar = document.createElement("div");
    bar.id = "replay-controls";
    bar.style.cssText = "position:fixed;left:0;right:0;bottom:0;height:40px;display:flex;gap:10px;" +
      "align-items:center;padding:0 10px;background:#262626;color:#eee;font:14px Helvetica,Arial,sans-serif;";
    const play = document.createElement("button");
    play.id = "replay-play";
    play.type = "button";
    play.style.cssText = "width:70px;";
    const scrub = document.createElement("input");
    scrub.id = "replay-scrub";
    scrub.type = "range";
    scrub.min = "0";
    scrub.step = "1";
    scrub.style.cssText = "flex:1;";
    const time = document.createElement("span");
    time.id = "replay-time";
    time.style.cssText = "min-width:110px;text-align:right;font-variant-numeric:tabular-nums;";
    const speed = document.createElement("select");
    speed.id = "replay-speed";
    for (const x of SPEEDS) {
      const opt = document.createElement("option");
      opt.value = String(x);
      opt.textContent = x + "x";
      if (x === 1) opt.selected = true;
      speed.appendChild(opt);
    }
    play.addEventListener("click", () => { togglePlay(); canvas.focus(); });
    scrub.addEventListener("input", () => seek(Number(scrub.value), false));
    speed.addEventListener("change", () => { setSpeed(Number(speed.value)); canvas.focus(); });
    bar.append(play, scrub, time, speed);
    document.body.appendChild(bar);
    canvas.style.height = "calc(100vh - 40px)";
    controls = { play, scrub, time, speed };
  }

  function updateControls() {
    const r = page.replay;
    if (!controls || !r) return;
    const last = Math.max(0, r.frames.length - 1);
    controls.play.textContent = r.playing ? "Pause" : "Play";
    if (controls.scrub.max !== String(last)) controls.scrub.max = String(last);
    if (document.activeElement !== controls.scrub) controls.scrub.value = String(r.index);
    const text = (r.index / r.fps).toFixed(1) + " / " + (last / r.fps).toFixed(1) + " s";
    if (controls.time.textContent !== text) controls.time.textContent = text;
  }

  function replayKey(k, repeat) {
    const r = page.replay;
    if (!r) return;
    if (k === "r" || k === "home") seek(0, true);
    else if (k === " " && !repeat) togglePlay();
    else if (k === "arrowright") seek(r.index + 1, false);
    else if (k === "arrowleft") seek(r.index - 1, false);
  }

  // ------------------------------------------------------------------ the adapter
  window.qwopReplay = qwopReplay;
  window.qwopAdapter = {
    version: VERSION,
    get mode() { return page.mode; },
    get connected() { return page.connected; },
    // The latest state: the raw vector plus the fields a reader needs without the layout.
    state() {
      const f = page.frame;
      if (!f) return null;
      return { state: f.state, distance: f.distance, hud_time: f.hud_time, status: f.status,
               updates: f.updates, run: f.run === undefined ? 0 : f.run, keys: f.keys };
    },
    keysHeld() { return page.mode === "replay" ? (page.frame ? page.frame.keys : 0) : page.held; },
    pageKeys() { return page.localKeys; },
    status() {
      if (page.mode === "live" && !page.connected) return "connecting";
      return page.frame ? page.frame.status : "connecting";
    },
    replay: {
      frame: () => (page.replay ? page.replay.index : -1),
      length: () => (page.replay ? page.replay.frames.length : 0),
      seek: (i) => seek(i, false),
      play: () => seek(page.replay ? page.replay.index : 0, true),
      pause: () => seek(page.replay ? page.replay.index : 0, false),
      playing: () => !!(page.replay && page.replay.playing),
      speed: () => (page.replay ? page.replay.speed : 1),
      setSpeed: (x) => setSpeed(Number(x)),
    },
  };
  window.qwopRenderer = { createRenderer, frameFromState }; // for embedding the drawing elsewhere

  if (window.QWOP_REPLAY) { // a self-contained replay document (host.replay_html)
    page.mode = "replay";
    qwopReplay(window.QWOP_REPLAY);
  } else if (page.mode === "replay") {
    page.message = "loading the replay...";
    fetch(params.get("replay"))
      .then((r) => r.json())
      .then(qwopReplay)
      .catch((err) => { page.message = "cannot load the replay: " + err; });
  } else if (location.protocol === "file:") {
    page.message = "open this page through the game host (qwop-play), not as a file";
  } else {
    connect();
  }
  canvas.focus();
  requestAnimationFrame(render);
})();
