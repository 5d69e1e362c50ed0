"""qwopkit's script in the original game's page (`window.qwopkit`), loaded before the game.

The patched Main.ready() hands it the game object; it then replaces that object's `update`
(what the page's requestAnimationFrame loop calls each frame) with its own:
- mode "step" (agents): the loop's calls do nothing, and `qwopkit.advance(keys, n, limit)`
  holds the keys in the game's own flags (QDown, WDown, ODown, PDown) and runs the game's
  update(1/30) n times, then returns the state: one page round trip per decision;
- mode "play" (people): the loop runs the game as it always does, in real time; after every
  update the keys it held and the state it left are pushed onto `qwopkit.log` (and each run's
  spawn before its first update), which the recorder drains: [kind (0 spawn, 1 update), time
  (Unix ms), keys, *row]. Nothing waits on the recorder, so the game's timing is
  the game's own; the one change is that nothing runs before the start click (see below).
The state is read from the Box2D bodies exactly (float64): m_xf.position, m_sweep.a,
m_linearVelocity, m_angularVelocity, then the game's score, scoreTime, keys and flags.
"""

from __future__ import annotations

import json

from qwopkit.adapter.openqwop.physics import BODY_NAMES, JOINT_NAMES

# One row per state: 12 bodies x (x, y, angle, vx, vy, omega), then these.
ROW_TAIL = ("score", "score_time", "keys", "fallen", "jump_landed", "game_ended", "updates")
ROW_SIZE = 6 * len(BODY_NAMES) + len(ROW_TAIL)

SHIM_JS = """(function () {
  "use strict";
  var BODIES = __BODIES__, JOINTS = __JOINTS__;
  var mode = (/[?&]qwopkit=(\\w+)/.exec(window.location.search) || [])[1] || "step";
  var qk = window.qwopkit = {game: null, mode: mode, errors: [], log: [], updates: 0, inside: false,
                             slowFrames: +((/[?&]frames=(\\d+)/.exec(window.location.search) || [])[1] || 0),
                             spawnPending: true};
  window.addEventListener("error", function (e) { qk.errors.push(String(e.message || e.error || e)); });

  // Agents need no drawing: the page's frames then come 4 times a second (input, e.g. the
  // start click, is still read each frame) and leave the CPU to the stepping.
  var raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = function (callback) {
    if (qk.slowFrames > 0) {
      return window.setTimeout(function () { callback(window.performance.now()); }, qk.slowFrames);
    }
    return raf(callback);
  };

  function keysOf(g) {
    return (g.QDown ? 1 : 0) | (g.WDown ? 2 : 0) | (g.ODown ? 4 : 0) | (g.PDown ? 8 : 0);
  }
  qk.row = function () {
    var g = qk.game, out = [];
    for (var i = 0; i < BODIES.length; i++) {
      var b = g[BODIES[i]]._components.get("physicsBody", false).body;
      out.push(b.m_xf.position.x, b.m_xf.position.y, b.m_sweep.a,
               b.m_linearVelocity.x, b.m_linearVelocity.y, b.m_angularVelocity);
    }
    out.push(g.score, g.scoreTime, keysOf(g), g.fallen ? 1 : 0, g.jumpLanded ? 1 : 0,
             g.gameEnded ? 1 : 0, qk.updates);
    return out;
  };
  function ended(g) { return g.fallen || g.jumpLanded; }
  function now() { return window.performance.timeOrigin + window.performance.now(); }  // epoch ms

  window.qwopkitReady = function (game) {
    qk.game = game;
    var update = game.update, reset = game.reset;
    game.update = function (t) {
      if (qk.mode === "step" && !qk.inside) return;  // the page's loop no longer steps the game
      // People: nothing steps before the start click, but the game's update would already add
      // up the head's torque there; skipped, the run starts as a fresh page stepped by qwopkit
      // does, so a recorded run replays exactly.
      if (!this.firstClick) return;
      var keys = keysOf(this);
      if (qk.mode === "play" && qk.spawnPending) {
        qk.spawnPending = false;
        qk.log.push([0, now(), 0].concat(qk.row()));  // the run's spawn
      }
      update.call(this, t);
      qk.updates++;
      if (qk.mode === "play") qk.log.push([1, now(), keys].concat(qk.row()));
    };
    game.reset = function () {
      // A reset (R, or space after a run) starts a new run: its own first update follows.
      qk.updates = 0;
      qk.spawnPending = true;
      return reset.apply(this, arguments);
    };
  };

  qk.references = function () {
    return JOINTS.map(function (name) { return qk.game[name].m_referenceAngle; });
  };

  qk.ready = function () { return !!(qk.game && qk.game.doneLoading); };
  qk.started = function () { return !!(qk.game && qk.game.firstClick); };

  qk.setKeys = function (keys) {
    var g = qk.game;
    g.QDown = !!(keys & 1); g.WDown = !!(keys & 2); g.ODown = !!(keys & 4); g.PDown = !!(keys & 8);
  };

  // Hold `keys` for up to n updates; stop early when the run ends (a fall or a finish) or the
  // update count reaches `limit` (< 0: none). Returns the state after the last update.
  qk.advance = function (keys, n, limit) {
    var g = qk.game, wasRunning = !ended(g);
    qk.setKeys(keys);
    qk.inside = true;
    try {
      for (var i = 0; i < n; i++) {
        if (limit >= 0 && qk.updates >= limit) break;
        g.update(1 / 30);
        if (wasRunning && ended(g)) break;
      }
    } finally {
      qk.inside = false;
    }
    return qk.row();
  };

  // Box2D's broad phase (its AABB tree, the order of its proxies' ids, the proxies waiting to
  // be paired) decides the order in which contacts are made, and so the solver's order. The
  // game's own reset leaves it as the last run made it: the next run then drifts from a fresh
  // page's once something new is touched (the hurdle). `keep()` copies it (and the static
  // bodies' places: the ground boxes follow the camera) on a fresh page at the spawn; a reset
  // puts the copy back, mapped onto the new run's fixtures, so the world is the fresh page's.
  function fixtures(w) {
    var bodies = [], out = [];
    for (var b = w.m_bodyList; b != null; b = b.m_next) bodies.push(b);
    bodies.reverse();  // creation order: Box2D prepends
    for (var i = 0; i < bodies.length; i++) {
      var own = [];
      for (var f = bodies[i].m_fixtureList; f != null; f = f.m_next) own.push(f);
      out = out.concat(own.reverse());
    }
    return out;
  }
  function box(a) { return [a.lowerBound.x, a.lowerBound.y, a.upperBound.x, a.upperBound.y]; }
  function setBox(a, v) {
    a.lowerBound.x = v[0]; a.lowerBound.y = v[1]; a.upperBound.x = v[2]; a.upperBound.y = v[3];
  }
  qk.keep = function () {
    var w = qk.game.m_world, bp = w.m_contactManager.m_broadPhase, tree = bp.m_tree;
    var fx = fixtures(w), nodes = [];
    function copy(node) {
      if (node == null) return -1;
      var c = {id: node.id, aabb: box(node.aabb),
               fixture: node.child1 == null ? fx.indexOf(node.userData) : -1};
      nodes.push(c);
      var at = nodes.length - 1;
      c.child1 = copy(node.child1);
      c.child2 = copy(node.child2);
      return at;
    }
    var root = copy(tree.m_root), statics = [];
    for (var i = 0; i < fx.length; i++) {
      var b = fx[i].m_body;
      statics.push(b.getType() == 0 ? {x: b.m_xf.position.x, y: b.m_xf.position.y, a: b.m_sweep.a,
                                       aabb: box(fx[i].m_aabb)} : null);
    }
    qk.kept = {nodes: nodes, root: root, fixtures: fx.length, statics: statics,
               move: bp.m_moveBuffer.map(function (n) { return fx.indexOf(n.userData); }),
               path: tree.m_path, insertions: tree.m_insertionCount, proxies: bp.m_proxyCount,
               contacts: w.m_contactCount};
    return fx.length;
  };
  function restore() {
    var k = qk.kept, w = qk.game.m_world, cm = w.m_contactManager, fx = fixtures(w);
    // (The world's contact count only grows in this port: contacts are counted where they are
    // made and uncounted elsewhere. What matters is that no contact is left.)
    if (!k || fx.length !== k.fixtures || w.m_contactList !== null || k.contacts !== 0) return false;
    w.m_contactCount = k.contacts;
    for (var i = 0; i < fx.length; i++) {
      var st = k.statics[i];
      if (st === null) continue;
      var b = fx[i].m_body;  // a static body back where it was, without a contact search
      b.m_xf.position.x = st.x; b.m_xf.position.y = st.y; b.m_xf.R.set(st.a);
      var R = b.m_xf.R, lc = b.m_sweep.localCenter;
      b.m_sweep.c.x = R.col1.x * lc.x + R.col2.x * lc.y + st.x;
      b.m_sweep.c.y = R.col1.y * lc.x + R.col2.y * lc.y + st.y;
      b.m_sweep.c0.setV(b.m_sweep.c);
      b.m_sweep.a0 = b.m_sweep.a = st.a;
      setBox(fx[i].m_aabb, st.aabb);
    }
    var bp = new cm.m_broadPhase.__class__(), tree = bp.m_tree;
    var order = k.nodes.map(function (n, at) { return at; });
    order.sort(function (a, b) { return k.nodes[a].id - k.nodes[b].id; });
    var made = [];  // new nodes, allocated in the kept ids' order: their ids keep that order
    for (var j = 0; j < order.length; j++) made[order[j]] = tree.allocateNode();
    for (var n = 0; n < k.nodes.length; n++) {
      var kn = k.nodes[n], node = made[n];
      setBox(node.aabb, kn.aabb);
      node.child1 = kn.child1 < 0 ? null : made[kn.child1];
      node.child2 = kn.child2 < 0 ? null : made[kn.child2];
      if (node.child1) node.child1.parent = node;
      if (node.child2) node.child2.parent = node;
      if (kn.fixture >= 0) { node.userData = fx[kn.fixture]; fx[kn.fixture].m_proxy = node; }
    }
    tree.m_root = k.root < 0 ? null : made[k.root];
    if (tree.m_root) tree.m_root.parent = null;
    tree.m_path = k.path; tree.m_insertionCount = k.insertions;
    bp.m_moveBuffer = k.move.map(function (i) { return fx[i].m_proxy; });
    bp.m_proxyCount = k.proxies;
    cm.m_broadPhase = bp;
    return true;
  }

  // A new run on this page, at the spawn: the game's own reset, without the update it runs
  // at its end (that update is the run's first, which the caller makes), then the broad phase
  // of the fresh page put back. Returns the state, or null if the fresh page's copy does not fit.
  qk.reset = function () {
    qk.setKeys(0);
    qk.game.reset();
    return restore() ? qk.row() : null;
  };

  qk.drain = function () { var out = qk.log; qk.log = []; return out; };
})();
""".replace("__BODIES__", json.dumps(list(BODY_NAMES))).replace("__JOINTS__", json.dumps(list(JOINT_NAMES)))

__all__ = ["SHIM_JS", "ROW_TAIL", "ROW_SIZE"]
