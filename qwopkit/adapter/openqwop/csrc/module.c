/* The Python face of the physics core: functions over a buffer of worlds.
 *
 * Python owns the memory (a bytearray or numpy array of n * WORLD_SIZE bytes); every function
 * names a world by its index in that buffer. A snapshot is a copy of a world's bytes.
 * State vectors follow qwopkit/adapter/openqwop/layout.py: 12 bodies x (x, y, angle, vx, vy,
 * omega), 11 joints x (angle, speed), then distance, hud_time, keys, fallen, finished.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <time.h>
#include "world.h"

#define STATE_SIZE 99

extern int g_profile;
extern double g_seconds[3];


static World *world_at(Py_buffer *buf, Py_ssize_t index) {
    Py_ssize_t n = buf->len / (Py_ssize_t)sizeof(World);
    if (index < 0 || index >= n) {
        PyErr_Format(PyExc_IndexError, "world index %zd out of range (%zd worlds)", index, n);
        return NULL;
    }
    return (World *)((char *)buf->buf + index * (Py_ssize_t)sizeof(World));
}

static void fill_state(const World *w, double *out) {
    for (int p = 0; p < 12; p++) {
        const Body *b = &w->bodies[w->runner[p]];
        double *o = out + 6 * p;
        o[0] = b->xf.position.x; o[1] = b->xf.position.y; o[2] = b->sweep.a;
        o[3] = b->v.x; o[4] = b->v.y; o[5] = b->w;
    }
    for (int j = 0; j < 11; j++) {
        const Joint *jt = &w->joints[w->jointOf[j]];
        const Body *a = &w->bodies[jt->a], *b = &w->bodies[jt->b];
        out[72 + 2 * j] = b->sweep.a - a->sweep.a - jt->referenceAngle;   /* getJointAngle() */
        out[72 + 2 * j + 1] = b->w - a->w;
    }
    out[94] = w->bodies[w->runner[0]].xf.position.x / 10;
    out[95] = (double)w->clockUpdates / 30;
    out[96] = w->keys;
    out[97] = world_status(w) == 1;
    out[98] = world_status(w) == 2;
}

static int advance(World *w, int keys, long updates, long limit) {
    for (long u = 0; u < updates; u++) {
        int before = world_status(w);
        world_update(w, keys);
        if (before == 0 && world_status(w) != 0) break;
        if (limit >= 0 && w->updates >= limit) break;
    }
    return world_status(w);
}

static PyObject *py_reset(PyObject *self, PyObject *args) {
    Py_buffer buf; Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "w*n", &buf, &i)) return NULL;
    World *w = world_at(&buf, i);
    if (w) world_reset(w);
    PyBuffer_Release(&buf);
    if (!w) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_advance(PyObject *self, PyObject *args) {
    Py_buffer buf; Py_ssize_t i; int keys; long updates, limit;
    if (!PyArg_ParseTuple(args, "w*nill", &buf, &i, &keys, &updates, &limit)) return NULL;
    World *w = world_at(&buf, i);
    int status = w ? advance(w, keys & 0xF, updates, limit) : 0;
    PyBuffer_Release(&buf);
    if (!w) return NULL;
    return PyLong_FromLong(status);
}

static PyObject *py_state(PyObject *self, PyObject *args) {
    Py_buffer buf, out; Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "w*nw*", &buf, &i, &out)) return NULL;
    World *w = world_at(&buf, i);
    if (w && out.len < (Py_ssize_t)(STATE_SIZE * sizeof(double))) {
        PyErr_SetString(PyExc_ValueError, "out: needs 99 float64 values");
        w = NULL;
    }
    if (w) fill_state(w, (double *)out.buf);
    PyBuffer_Release(&buf); PyBuffer_Release(&out);
    if (!w) return NULL;
    Py_RETURN_NONE;
}

/* Every world of the buffer holds keys[k] for `updates` updates (a decision), stopping where its
 * run ends; statuses and states come back in out arrays. One call for N worlds. */
static PyObject *py_step_batch(PyObject *self, PyObject *args) {
    Py_buffer buf, keys, states, status; long updates;
    if (!PyArg_ParseTuple(args, "w*y*lw*w*", &buf, &keys, &updates, &states, &status)) return NULL;
    Py_ssize_t n = buf.len / (Py_ssize_t)sizeof(World);
    int ok = keys.len >= n && states.len >= n * STATE_SIZE * (Py_ssize_t)sizeof(double)
             && status.len >= n;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < n; k++) {
            World *w = (World *)((char *)buf.buf + k * (Py_ssize_t)sizeof(World));
            ((unsigned char *)status.buf)[k] = (unsigned char)advance(w, ((unsigned char *)keys.buf)[k] & 0xF, updates, -1);
            fill_state(w, (double *)states.buf + k * STATE_SIZE);
        }
        Py_END_ALLOW_THREADS
    } else {
        PyErr_SetString(PyExc_ValueError, "step_batch: keys, states or status is shorter than the worlds");
    }
    PyBuffer_Release(&buf); PyBuffer_Release(&keys); PyBuffer_Release(&states); PyBuffer_Release(&status);
    if (!ok) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_apply_keys(PyObject *self, PyObject *args) {
    Py_buffer buf; Py_ssize_t i; int keys;
    if (!PyArg_ParseTuple(args, "w*ni", &buf, &i, &keys)) return NULL;
    World *w = world_at(&buf, i);
    if (w) world_apply_keys(w, keys & 0xF);
    PyBuffer_Release(&buf);
    if (!w) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_place(PyObject *self, PyObject *args) {
    Py_buffer buf, state; Py_ssize_t i; double torque = 0;
    if (!PyArg_ParseTuple(args, "w*ny*|d", &buf, &i, &state, &torque)) return NULL;
    World *w = world_at(&buf, i);
    if (w && state.len < (Py_ssize_t)(STATE_SIZE * sizeof(double))) {
        PyErr_SetString(PyExc_ValueError, "state: needs 99 float64 values");
        w = NULL;
    }
    if (w) world_place(w, (const double *)state.buf, torque);
    PyBuffer_Release(&buf); PyBuffer_Release(&state);
    if (!w) return NULL;
    Py_RETURN_NONE;
}

/* Small facts Python reads without a full state: (updates, status, score, hurdle poses, head torque). */
static PyObject *py_info(PyObject *self, PyObject *args) {
    Py_buffer buf; Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "w*n", &buf, &i)) return NULL;
    World *w = world_at(&buf, i);
    PyObject *r = NULL;
    if (w) {
        const Body *hb = &w->bodies[w->hurdleBase], *ht = &w->bodies[w->hurdleTop];
        r = Py_BuildValue("{s:L,s:i,s:d,s:((ddd)(ddd)),s:d,s:i}",
                          "updates", (long long)w->updates, "status", world_status(w), "score", w->score,
                          "hurdle", hb->xf.position.x, hb->xf.position.y, hb->sweep.a,
                          ht->xf.position.x, ht->xf.position.y, ht->sweep.a,
                          "head_torque", w->bodies[w->runner[1]].torque, "contacts", 0);
    }
    PyBuffer_Release(&buf);
    return r;
}

static PyObject *py_joint(PyObject *self, PyObject *args) {
    Py_buffer buf; Py_ssize_t i; int j;
    if (!PyArg_ParseTuple(args, "w*ni", &buf, &i, &j)) return NULL;
    World *w = world_at(&buf, i);
    PyObject *r = NULL;
    if (w && (j < 0 || j >= 11)) { PyErr_SetString(PyExc_IndexError, "joint index out of range"); w = NULL; }
    if (w) {
        const Joint *jt = &w->joints[w->jointOf[j]];
        r = Py_BuildValue("(dddii)", jt->motorSpeed, jt->lower, jt->upper, jt->enableMotor, jt->enableLimit);
    }
    PyBuffer_Release(&buf);
    return r;
}

/* Time the parts of `keys` updates of world i (one key mask per byte): returns seconds spent in
 * the whole updates, the contacts' narrow phase, the solver (islands) and the broad phase. */
static PyObject *py_profile(PyObject *self, PyObject *args) {
    Py_buffer buf, keys; Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "w*ny*", &buf, &i, &keys)) return NULL;
    World *w = world_at(&buf, i);
    PyObject *r = NULL;
    if (w) {
        struct timespec a, b;
        g_seconds[0] = g_seconds[1] = g_seconds[2] = 0;
        g_profile = 1;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (Py_ssize_t k = 0; k < keys.len; k++) world_update(w, ((unsigned char *)keys.buf)[k] & 0xF);
        clock_gettime(CLOCK_MONOTONIC, &b);
        g_profile = 0;
        double total = (b.tv_sec - a.tv_sec) + 1e-9 * (b.tv_nsec - a.tv_nsec);
        r = Py_BuildValue("{s:d,s:d,s:d,s:d}", "total", total, "contacts", g_seconds[0],
                          "solver", g_seconds[1] - g_seconds[2], "broadphase", g_seconds[2]);
    }
    PyBuffer_Release(&buf); PyBuffer_Release(&keys);
    return r;
}

static PyMethodDef methods[] = {
    {"reset", py_reset, METH_VARARGS, "reset(worlds, i): world i at the spawn, as a freshly loaded game after its first click."},
    {"advance", py_advance, METH_VARARGS, "advance(worlds, i, keys, updates, limit) -> status: hold keys for up to `updates` updates; stops when the run ends or the update count reaches limit (-1: none)."},
    {"state", py_state, METH_VARARGS, "state(worlds, i, out): write world i's raw state (99 float64) into out."},
    {"step_batch", py_step_batch, METH_VARARGS, "step_batch(worlds, keys, updates, states, status): every world holds its keys for `updates` updates."},
    {"apply_keys", py_apply_keys, METH_VARARGS, "apply_keys(worlds, i, keys): set motor speeds and hip limits as an update with these keys would, without stepping."},
    {"place", py_place, METH_VARARGS, "place(worlds, i, state, head_torque=0): a fresh world with the runner put in a raw state (no contact or joint caches)."},
    {"info", py_info, METH_VARARGS, "info(worlds, i) -> dict of update count, status, HUD score, hurdle poses, head torque."},
    {"joint", py_joint, METH_VARARGS, "joint(worlds, i, j) -> (motor speed, lower, upper, motor enabled, limit enabled) of runner joint j (layout order)."},
    {"profile", py_profile, METH_VARARGS, "profile(worlds, i, keys) -> seconds: total, contacts, solver, broadphase over len(keys) updates."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_physics", "openqwop's compiled physics core.", -1, methods};

PyMODINIT_FUNC PyInit__physics(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "WORLD_SIZE", (long)sizeof(World)) < 0) return NULL;
    if (PyModule_AddIntConstant(m, "STATE_SIZE", STATE_SIZE) < 0) return NULL;
    return m;
}
