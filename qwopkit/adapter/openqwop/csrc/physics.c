/* openqwop's rigid-body core: exactly what QWOP's world needs, in the original's order.
 *
 * Box2D's algorithms (Erin Catto, zlib licence): the dynamic-tree broad phase, polygon
 * clipping, the 2.1a contact solver and the 2.0-style revolute joint, as the original game's
 * Box2D port runs them. Every expression keeps the port's order of operations, because the
 * aim is the same float64 numbers, not only the same physics (docs/physics-core.md).
 * Compiled without floating-point contraction (setup.py), so a*b+c is never fused.
 */
#include <math.h>
#include <string.h>
#include <float.h>
#include <time.h>
#include "world.h"

/* Where an update's time goes, for the speed benchmark (off unless qwop-bench turns it on). */
int g_profile = 0;
double g_seconds[3];  /* contacts (narrow phase), solver (islands), broad phase */
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

/* Box2D's settings as the original sets them. */
#define PI 3.141592653589793  /* JavaScript's Math.PI */
#define LINEAR_SLOP 0.005
#define ANGULAR_SLOP (0.011111111111111112 * PI)
#define AABB_EXTENSION 0.1
#define AABB_MULTIPLIER 2.0
#define VELOCITY_THRESHOLD 1.0
#define MAX_LINEAR_CORRECTION 0.2
#define MAX_ANGULAR_CORRECTION (0.044444444444444446 * PI)
#define MAX_TRANSLATION 2.0
#define MAX_TRANSLATION_SQUARED 4.0
#define MAX_ROTATION (0.5 * PI)
#define MAX_ROTATION_SQUARED (0.5 * PI * 0.5 * PI)
#define CONTACT_BAUMGARTE 1.0
#define TIME_TO_SLEEP 0.5
#define LINEAR_SLEEP_TOLERANCE 0.01
#define ANGULAR_SLEEP_TOLERANCE (0.011111111111111112 * PI)
#define JS_MIN_VALUE 4.9406564584124654e-324  /* JavaScript's Number.MIN_VALUE */

static inline double clampd(double a, double lo, double hi) { return lo > a ? lo : (a > hi ? hi : a); }
static inline double mind(double a, double b) { return b > a ? a : b; }
static inline double maxd(double a, double b) { return a > b ? a : b; }
static inline double absd(double a) { return a > 0 ? a : -a; }

static inline void mat_set(Mat22 *m, double angle) {
    double c = cos(angle), s = sin(angle);
    m->col1.x = c; m->col2.x = -s; m->col1.y = s; m->col2.y = c;
}

/* B2Mat22.getInverse (a singular matrix gives 0) */
static inline Mat22 mat_inverse(const Mat22 *m) {
    double e = m->col1.x, s = m->col2.x, i = m->col1.y, n = m->col2.y;
    double o = e * n - s * i;
    if (o != 0) o = 1 / o;
    Mat22 out;
    out.col1.x = o * n; out.col2.x = -o * s;
    out.col1.y = -o * i; out.col2.y = o * e;
    return out;
}

/* ------------------------------------------------------------------ bodies */

/* The rotation of a body's transform, recomputed only when its angle changed: cos and sin are
 * most of a step's cost, and the same angle (bit for bit) gives the same rotation. */
static inline void body_set_rotation(Body *b, double angle) {
    uint64_t bits;
    memcpy(&bits, &angle, sizeof bits);
    if (bits == b->rotationOf && b->rotationValid) return;
    mat_set(&b->xf.R, angle);
    b->rotationOf = bits;
    b->rotationValid = 1;
}

static void body_synchronize_transform(Body *b) {
    body_set_rotation(b, b->sweep.a);
    Mat22 *t = &b->xf.R;
    Vec2 *e = &b->sweep.localCenter;
    b->xf.position.x = b->sweep.c.x - (t->col1.x * e->x + t->col2.x * e->y);
    b->xf.position.y = b->sweep.c.y - (t->col1.y * e->x + t->col2.y * e->y);
}

static void body_set_awake(Body *b, int awake) {
    if (awake) {
        b->flags |= BODY_AWAKE;
        b->sleepTime = 0;
    } else {
        b->flags &= ~BODY_AWAKE;
        b->sleepTime = 0;
        b->v.x = 0; b->v.y = 0;
        b->w = 0;
        b->force.x = 0; b->force.y = 0;
        b->torque = 0;
    }
}

static void shape_compute_aabb(const Body *b, AABB *out, const Xf *xf) {
    const Mat22 *s = &xf->R;
    const Vec2 *i = &b->verts[0];
    double n = xf->position.x + (s->col1.x * i->x + s->col2.x * i->y);
    double o = xf->position.y + (s->col1.y * i->x + s->col2.y * i->y);
    double r = n, a = o;
    for (int l = 1; l < 4; l++) {
        i = &b->verts[l];
        double x = xf->position.x + (s->col1.x * i->x + s->col2.x * i->y);
        double y = xf->position.y + (s->col1.y * i->x + s->col2.y * i->y);
        n = x > n ? n : x;
        o = y > o ? o : y;
        r = r > x ? r : x;
        a = a > y ? a : y;
    }
    out->lower.x = n - b->radius;
    out->lower.y = o - b->radius;
    out->upper.x = r + b->radius;
    out->upper.y = a + b->radius;
}

static int aabb_overlap(const AABB *a, const AABB *t) {
    double e = t->lower.x - a->upper.x, s = t->lower.y - a->upper.y;
    double i = a->lower.x - t->upper.x, n = a->lower.y - t->upper.y;
    if (e > 0 || s > 0) return 0;
    if (i > 0 || n > 0) return 0;
    return 1;
}

static int aabb_contains(const AABB *a, const AABB *t) {
    return a->lower.x <= t->lower.x && a->lower.y <= t->lower.y
        && t->upper.x <= a->upper.x && t->upper.y <= a->upper.y;
}

static void aabb_combine(AABB *out, const AABB *t, const AABB *e) {
    AABB r;
    r.lower.x = fmin(t->lower.x, e->lower.x);
    r.lower.y = fmin(t->lower.y, e->lower.y);
    r.upper.x = fmax(t->upper.x, e->upper.x);
    r.upper.y = fmax(t->upper.y, e->upper.y);
    *out = r;
}

/* ------------------------------------------------------------------ dynamic tree */

static int tree_allocate(World *w) {
    if (w->freeList != NIL) {
        int t = w->freeList;
        w->freeList = w->nodes[t].parent;
        w->nodes[t].parent = NIL; w->nodes[t].child1 = NIL; w->nodes[t].child2 = NIL;
        return t;
    }
    int t = w->nodeCount++;   /* a new node: its index is the original's node id */
    Node *n = &w->nodes[t];
    memset(n, 0, sizeof *n);
    n->parent = NIL; n->child1 = NIL; n->child2 = NIL; n->body = NIL;
    return t;
}

static void tree_free(World *w, int t) {
    w->nodes[t].parent = w->freeList;
    w->freeList = t;
}

static inline int is_leaf(const World *w, int n) { return w->nodes[n].child1 == NIL; }

static void tree_insert(World *w, int leaf) {
    Node *N = w->nodes;
    if (w->root == NIL) { w->root = leaf; N[leaf].parent = NIL; return; }
    double ex = (N[leaf].aabb.lower.x + N[leaf].aabb.upper.x) / 2;
    double ey = (N[leaf].aabb.lower.y + N[leaf].aabb.upper.y) / 2;
    int s = w->root;
    while (!is_leaf(w, s)) {
        int i = N[s].child1, n = N[s].child2;
        double o = fabs((N[i].aabb.lower.x + N[i].aabb.upper.x) / 2 - ex)
                 + fabs((N[i].aabb.lower.y + N[i].aabb.upper.y) / 2 - ey);
        double r = fabs((N[n].aabb.lower.x + N[n].aabb.upper.x) / 2 - ex)
                 + fabs((N[n].aabb.lower.y + N[n].aabb.upper.y) / 2 - ey);
        s = r > o ? i : n;
    }
    int a = N[s].parent;
    int l = tree_allocate(w);
    N = w->nodes;
    N[l].parent = a;
    N[l].body = NIL;
    aabb_combine(&N[l].aabb, &N[leaf].aabb, &N[s].aabb);
    if (a != NIL) {
        if (N[a].child1 == s) N[a].child1 = l; else N[a].child2 = l;
        N[l].child1 = s; N[l].child2 = leaf;
        N[s].parent = l; N[leaf].parent = l;
        do {
            if (aabb_contains(&N[a].aabb, &N[l].aabb)) break;
            aabb_combine(&N[a].aabb, &N[N[a].child1].aabb, &N[N[a].child2].aabb);
            l = a;
            a = N[a].parent;
        } while (a != NIL);
    } else {
        N[l].child1 = s; N[l].child2 = leaf;
        N[s].parent = l; N[leaf].parent = l;
        w->root = l;
    }
}

static void tree_remove(World *w, int leaf) {
    Node *N = w->nodes;
    if (leaf == w->root) { w->root = NIL; return; }
    int s = N[leaf].parent, i = N[s].parent;
    int e = N[s].child1 == leaf ? N[s].child2 : N[s].child1;
    if (i != NIL) {
        if (N[i].child1 == s) N[i].child1 = e; else N[i].child2 = e;
        N[e].parent = i;
        tree_free(w, s);
        while (i != NIL) {
            AABB old = N[i].aabb;
            aabb_combine(&N[i].aabb, &N[N[i].child1].aabb, &N[N[i].child2].aabb);
            if (aabb_contains(&old, &N[i].aabb)) break;
            i = N[i].parent;
        }
    } else {
        w->root = e;
        N[e].parent = NIL;
        tree_free(w, s);
    }
}

static void buffer_move(World *w, int proxy) {
    if (w->moveCount < MAX_MOVES) w->moves[w->moveCount++] = proxy;
}

static int create_proxy(World *w, const AABB *aabb, int body) {
    int s = tree_allocate(w);
    Node *n = &w->nodes[s];
    n->aabb.lower.x = aabb->lower.x - AABB_EXTENSION;
    n->aabb.lower.y = aabb->lower.y - AABB_EXTENSION;
    n->aabb.upper.x = aabb->upper.x + AABB_EXTENSION;
    n->aabb.upper.y = aabb->upper.y + AABB_EXTENSION;
    n->body = body;
    tree_insert(w, s);
    buffer_move(w, s);
    return s;
}

static void move_proxy(World *w, int proxy, const AABB *aabb, Vec2 d) {
    Node *t = &w->nodes[proxy];
    if (aabb_contains(&t->aabb, aabb)) return;
    tree_remove(w, proxy);
    double i = AABB_EXTENSION + AABB_MULTIPLIER * (d.x > 0 ? d.x : -d.x);
    double n = AABB_EXTENSION + AABB_MULTIPLIER * (d.y > 0 ? d.y : -d.y);
    t = &w->nodes[proxy];
    t->aabb.lower.x = aabb->lower.x - i;
    t->aabb.lower.y = aabb->lower.y - n;
    t->aabb.upper.x = aabb->upper.x + i;
    t->aabb.upper.y = aabb->upper.y + n;
    tree_insert(w, proxy);
    buffer_move(w, proxy);
}

/* ------------------------------------------------------------------ contacts: the manager */

static void add_pair(World *w, int bodyA, int bodyB);

static void find_new_contacts(World *w) {
    /* the broad phase's updatePairs: pairs in the order the tree queries find them, each pair
     * ordered by node id, consecutive duplicates skipped (the port never sorts) */
    int pairA[MAX_PAIRS], pairB[MAX_PAIRS], pairCount = 0;
    int stack[MAX_NODES];
    for (int m = 0; m < w->moveCount; m++) {
        int q = w->moves[m];
        const AABB *fat = &w->nodes[q].aabb;
        if (w->root == NIL) continue;
        int top = 0;
        stack[top++] = w->root;
        while (top > 0) {
            int n = stack[--top];
            if (!aabb_overlap(&w->nodes[n].aabb, fat)) continue;
            if (is_leaf(w, n)) {
                if (n == q) continue;
                if (pairCount < MAX_PAIRS) {
                    if (n < q) { pairA[pairCount] = n; pairB[pairCount] = q; }
                    else { pairA[pairCount] = q; pairB[pairCount] = n; }
                    pairCount++;
                }
            } else {
                stack[top++] = w->nodes[n].child1;
                stack[top++] = w->nodes[n].child2;
            }
        }
    }
    w->moveCount = 0;
    int l = 0;
    while (l < pairCount) {
        int a = pairA[l], b = pairB[l];
        add_pair(w, w->nodes[a].body, w->nodes[b].body);
        l++;
        while (l < pairCount && pairA[l] == a && pairB[l] == b) l++;
    }
}

static inline Edge *edge_at(World *w, int e) {
    if (e & 1) return &w->contacts[e >> 1].nodeB;
    return &w->contacts[e >> 1].nodeA;
}

static inline Edge *jedge_at(World *w, int e) {
    if (e & 1) return &w->joints[e >> 1].edgeB;
    return &w->joints[e >> 1].edgeA;
}

static int should_collide_bodies(World *w, int body, int other) {
    /* body.shouldCollide(other) */
    if (w->bodies[body].type != 2 && w->bodies[other].type != 2) return 0;
    for (int e = w->bodies[body].jointList; e != NIL; e = jedge_at(w, e)->next) {
        Edge *je = jedge_at(w, e);
        if (je->other == other) return 0;  /* no joint here lets its bodies collide */
    }
    return 1;
}

static void add_pair(World *w, int n, int o) {
    if (n == o) return;
    for (int r = w->bodies[o].contactList; r != NIL; r = edge_at(w, r)->next) {
        Edge *e = edge_at(w, r);
        if (e->other == n) {
            Contact *c = &w->contacts[e->owner];
            if ((c->a == n && c->b == o) || (c->a == o && c->b == n)) return;
        }
    }
    if (!should_collide_bodies(w, o, n)) return;
    Body *s = &w->bodies[n], *i = &w->bodies[o];
    if (!((s->mask & i->category) != 0 && (s->category & i->mask) != 0)) return;
    int k;
    for (k = 0; k < MAX_CONTACTS && w->contacts[k].used; k++) {}
    if (k == MAX_CONTACTS) return;
    Contact *h = &w->contacts[k];
    memset(h, 0, sizeof *h);
    h->used = 1;
    h->a = n; h->b = o;
    h->flags = CONTACT_ENABLED;
    if (s->type != 2 || i->type != 2) h->flags |= CONTACT_CONTINUOUS;
    h->current = 0;
    h->prev = NIL;
    h->next = w->contactList;
    if (w->contactList != NIL) w->contacts[w->contactList].prev = k;
    w->contactList = k;
    h->nodeA.owner = k; h->nodeA.other = o; h->nodeA.prev = NIL; h->nodeA.next = s->contactList;
    if (s->contactList != NIL) edge_at(w, s->contactList)->prev = 2 * k;
    s->contactList = 2 * k;
    h->nodeB.owner = k; h->nodeB.other = n; h->nodeB.prev = NIL; h->nodeB.next = i->contactList;
    if (i->contactList != NIL) edge_at(w, i->contactList)->prev = 2 * k + 1;
    i->contactList = 2 * k + 1;
}

static void destroy_contact(World *w, int k) {
    Contact *t = &w->contacts[k];
    Body *i = &w->bodies[t->a], *n = &w->bodies[t->b];
    if (t->prev != NIL) w->contacts[t->prev].next = t->next;
    if (t->next != NIL) w->contacts[t->next].prev = t->prev;
    if (w->contactList == k) w->contactList = t->next;
    if (t->nodeA.prev != NIL) edge_at(w, t->nodeA.prev)->next = t->nodeA.next;
    if (t->nodeA.next != NIL) edge_at(w, t->nodeA.next)->prev = t->nodeA.prev;
    if (i->contactList == 2 * k) i->contactList = t->nodeA.next;
    if (t->nodeB.prev != NIL) edge_at(w, t->nodeB.prev)->next = t->nodeB.next;
    if (t->nodeB.next != NIL) edge_at(w, t->nodeB.next)->prev = t->nodeB.prev;
    if (n->contactList == 2 * k + 1) n->contactList = t->nodeB.next;
    if (t->manifolds[t->current].pointCount > 0) {
        body_set_awake(i, 1);
        body_set_awake(n, 1);
    }
    t->used = 0;
}

/* ------------------------------------------------------------------ narrow phase */

static double edge_separation(const Body *A, const Xf *e, int s, const Body *B, const Xf *n) {
    const Mat22 *o = &e->R;
    const Vec2 *r = &A->normals[s];
    double _ = o->col1.x * r->x + o->col2.x * r->y;
    double m = o->col1.y * r->x + o->col2.y * r->y;
    o = &n->R;
    double u = o->col1.x * _ + o->col1.y * m;
    double d = o->col2.x * _ + o->col2.y * m;
    int p = 0;
    double y = DBL_MAX;
    for (int f = 0; f < 4; f++) {
        r = &B->verts[f];
        double v = r->x * u + r->y * d;
        if (y > v) { y = v; p = f; }
    }
    r = &A->verts[s]; o = &e->R;
    double x = e->position.x + (o->col1.x * r->x + o->col2.x * r->y);
    double ww = e->position.y + (o->col1.y * r->x + o->col2.y * r->y);
    r = &B->verts[p]; o = &n->R;
    double b = n->position.x + (o->col1.x * r->x + o->col2.x * r->y);
    double Bv = n->position.y + (o->col1.y * r->x + o->col2.y * r->y);
    b -= x; Bv -= ww;
    return b * _ + Bv * m;
}

static double find_max_separation(int *edge, const Body *A, const Xf *s, const Body *B, const Xf *n) {
    const Mat22 *r = &n->R;
    const Vec2 *o = &B->centroid;
    double h = n->position.x + (r->col1.x * o->x + r->col2.x * o->y);
    double c = n->position.y + (r->col1.y * o->x + r->col2.y * o->y);
    r = &s->R; o = &A->centroid;
    h -= s->position.x + (r->col1.x * o->x + r->col2.x * o->y);
    c -= s->position.y + (r->col1.y * o->x + r->col2.y * o->y);
    double _ = h * s->R.col1.x + c * s->R.col1.y;
    double m = h * s->R.col2.x + c * s->R.col2.y;
    int u = 0;
    double d = -DBL_MAX;
    for (int f = 0; f < 4; f++) {
        o = &A->normals[f];
        double g = o->x * _ + o->y * m;
        if (g > d) { d = g; u = f; }
    }
    double x = edge_separation(A, s, u, B, n);
    int v = u - 1 >= 0 ? u - 1 : 3;
    double b = edge_separation(A, s, v, B, n);
    int ww = 4 > u + 1 ? u + 1 : 0;
    double C = edge_separation(A, s, ww, B, n);
    int dir, best;
    double S;
    if (b > x && b > C) { dir = -1; best = v; S = b; }
    else {
        if (!(C > x)) { *edge = u; return x; }
        dir = 1; best = ww; S = C;
    }
    for (;;) {
        u = dir == -1 ? (best - 1 >= 0 ? best - 1 : 3) : (4 > best + 1 ? best + 1 : 0);
        x = edge_separation(A, s, u, B, n);
        if (!(x > S)) break;
        best = u; S = x;
    }
    *edge = best;
    return S;
}

/* Contact ids as the port packs them: reference edge, incident edge, incident vertex, flip. */
static inline uint32_t key_with_byte(uint32_t key, int byte, int value) {
    uint32_t mask = 0xFFu << (8 * byte);
    return (key & ~mask) | (((uint32_t)value << (8 * byte)) & mask);
}

static void find_incident_edge(World *w, const Body *A, const Xf *s, int i, const Body *B, const Xf *o) {
    const Mat22 *r = &s->R;
    const Vec2 *a = &A->normals[i];
    double m = r->col1.x * a->x + r->col2.x * a->y;
    double u = r->col1.y * a->x + r->col2.y * a->y;
    r = &o->R;
    double d = r->col1.x * m + r->col1.y * u;
    u = r->col2.x * m + r->col2.y * u;
    m = d;
    int p = 0;
    double y = DBL_MAX;
    for (int f = 0; f < 4; f++) {
        a = &B->normals[f];
        double v = m * a->x + u * a->y;
        if (y > v) { y = v; p = f; }
    }
    int b = p, ww = 4 > b + 1 ? b + 1 : 0;
    ClipVertex *x = &w->clip[0];
    a = &B->verts[b]; r = &o->R;
    x->v.x = o->position.x + (r->col1.x * a->x + r->col2.x * a->y);
    x->v.y = o->position.y + (r->col1.y * a->x + r->col2.y * a->y);
    uint32_t *k = &w->clipKeys[x->id];
    *k = key_with_byte(*k, 0, i); *k = key_with_byte(*k, 1, b); *k = key_with_byte(*k, 2, 0);
    x = &w->clip[1];
    a = &B->verts[ww]; r = &o->R;
    x->v.x = o->position.x + (r->col1.x * a->x + r->col2.x * a->y);
    x->v.y = o->position.y + (r->col1.y * a->x + r->col2.y * a->y);
    k = &w->clipKeys[x->id];
    *k = key_with_byte(*k, 0, i); *k = key_with_byte(*k, 1, ww); *k = key_with_byte(*k, 2, 1);
}

static inline void clip_set(World *w, ClipVertex *dst, const ClipVertex *src) {
    dst->v = src->v;
    w->clipKeys[dst->id] = w->clipKeys[src->id];
}

static int clip_segment_to_line(World *w, ClipVertex *t, ClipVertex *e, Vec2 s, double i) {
    int o = 0;
    Vec2 r = e[0].v, a = e[1].v;
    double l = s.x * r.x + s.y * r.y - i;
    double h = s.x * a.x + s.y * a.y - i;
    if (0 >= l) clip_set(w, &t[o++], &e[0]);
    if (0 >= h) clip_set(w, &t[o++], &e[1]);
    if (0 > l * h) {
        double c = l / (l - h);
        ClipVertex *n = &t[o];
        n->v.x = r.x + c * (a.x - r.x);
        n->v.y = r.y + c * (a.y - r.y);
        n->id = l > 0 ? e[0].id : e[1].id;   /* shares the id object, as the port does */
        ++o;
    }
    return o;
}

static void collide_polygons(World *w, Manifold *t, const Body *e, const Xf *s, const Body *i, const Xf *n) {
    t->pointCount = 0;
    double r = e->radius + i->radius;
    int a = 0, h = 0;
    double l = find_max_separation(&a, e, s, i, n);
    if (l > r) return;
    double c = find_max_separation(&h, i, n, e, s);
    if (c > r) return;
    const Body *_, *m; const Xf *u, *d; int y, f;
    if (c > 0.98 * l + 0.001) {
        _ = i; m = e; u = n; d = s; y = h; t->type = MANIFOLD_FACE_B; f = 1;
    } else {
        _ = e; m = i; u = s; d = n; y = a; t->type = MANIFOLD_FACE_A; f = 0;
    }
    find_incident_edge(w, _, u, y, m, d);
    Vec2 A = _->verts[y];
    Vec2 b = 4 > y + 1 ? _->verts[y + 1] : _->verts[0];
    Vec2 C = {b.x - A.x, b.y - A.y};
    double len = sqrt(C.x * C.x + C.y * C.y);
    if (!(len < JS_MIN_VALUE)) { double inv = 1 / len; C.x *= inv; C.y *= inv; }
    Vec2 I = {C.y, -C.x};
    Vec2 k = {0.5 * (A.x + b.x), 0.5 * (A.y + b.y)};
    const Mat22 *g = &u->R;
    Vec2 M = {g->col1.x * C.x + g->col2.x * C.y, g->col1.y * C.x + g->col2.y * C.y};
    Vec2 V = {-M.x, -M.y};
    Vec2 z = {M.y, -M.x};
    Vec2 T = {u->position.x + (g->col1.x * A.x + g->col2.x * A.y), u->position.y + (g->col1.y * A.x + g->col2.y * A.y)};
    Vec2 P = {u->position.x + (g->col1.x * b.x + g->col2.x * b.y), u->position.y + (g->col1.y * b.x + g->col2.y * b.y)};
    double L = z.x * T.x + z.y * T.y;
    double F = -M.x * T.x - M.y * T.y + r;
    double K = M.x * P.x + M.y * P.y + r;
    ClipVertex *E = &w->clip[2], *G = &w->clip[4];
    if (clip_segment_to_line(w, E, &w->clip[0], V, F) < 2) return;
    if (clip_segment_to_line(w, G, E, M, K) < 2) return;
    t->localPlaneNormal = I;
    t->localPoint = k;
    int j = 0;
    for (int R = 0; R < 2; R++) {
        ClipVertex *o = &G[R];
        double N = z.x * o->v.x + z.y * o->v.y - L;
        if (r >= N) {
            ManifoldPoint *W = &t->points[j];
            g = &d->R;
            double Z = o->v.x - d->position.x, q = o->v.y - d->position.y;
            W->localPoint.x = Z * g->col1.x + q * g->col1.y;
            W->localPoint.y = Z * g->col2.x + q * g->col2.y;
            W->key = key_with_byte(w->clipKeys[o->id], 3, f);
            ++j;
        }
    }
    t->pointCount = j;
}

/* B2WorldManifold.initialize: the world normal and points of a manifold. */
static void world_manifold(const Manifold *t, const Xf *e, double s, const Xf *i, double n,
                           Vec2 *normal, Vec2 points[2]) {
    if (t->pointCount == 0) return;
    /* FACE_A: the plane is on A; FACE_B: the same with the bodies (and radii) swapped, the
     * normal turned to point from A to B */
    int faceA = t->type == MANIFOLD_FACE_A;
    const Xf *ref = faceA ? e : i, *inc = faceA ? i : e;
    double refRadius = faceA ? s : n, incRadius = faceA ? n : s;
    const Mat22 *r = &ref->R;
    const Vec2 *o = &t->localPlaneNormal;
    double a = r->col1.x * o->x + r->col2.x * o->y;
    double l = r->col1.y * o->x + r->col2.y * o->y;
    o = &t->localPoint;
    double h = ref->position.x + r->col1.x * o->x + r->col2.x * o->y;
    double c = ref->position.y + r->col1.y * o->x + r->col2.y * o->y;
    if (faceA) { normal->x = a; normal->y = l; }
    else { normal->x = -a; normal->y = -l; }
    r = &inc->R;
    for (int k = 0; k < t->pointCount; k++) {
        o = &t->points[k].localPoint;
        double _ = inc->position.x + r->col1.x * o->x + r->col2.x * o->y;
        double m = inc->position.y + r->col1.y * o->x + r->col2.y * o->y;
        points[k].x = _ + 0.5 * (refRadius - (_ - h) * a - (m - c) * l - incRadius) * a;
        points[k].y = m + 0.5 * (refRadius - (_ - h) * a - (m - c) * l - incRadius) * l;
    }
}

/* ------------------------------------------------------------------ the game's contact listener */

static void begin_contact(World *w, Contact *t) {
    Body *A = &w->bodies[t->a], *B = &w->bodies[t->b];
    int n = B->tag, r = A->tag;
    Vec2 normal, pts[2] = {{0, 0}, {0, 0}};  /* a fresh world manifold: unused points read 0 */
    world_manifold(&t->manifolds[t->current], &A->xf, A->radius, &B->xf, B->radius, &normal, pts);
    double h = -1e5;
    for (int u = 0; u < 2; u++) if (pts[u].x > h) h = pts[u].x;
    const int leftFoot = 6, rightFoot = 11, head = 1, leftArm = 2, leftForearm = 3, rightArm = 7, rightForearm = 8;
    if (n == leftFoot || r == rightFoot) {
        if (r == TAG_TRACK && !w->gameEnded && !w->fallen) {   /* gameOver is never set */
            if (!w->jumped && h * 20 > 20000 - 220) w->jumped = 1;
            if (w->jumped && !w->jumpLanded && h * 20 > 20000) {
                w->jumpLanded = 1;
                w->score = floor(h + 0.5) / 10;
            }
        }
    } else if ((n == rightForearm || n == leftForearm || n == rightArm || n == leftArm || n == head)
               && r == TAG_TRACK && !w->fallen) {
        w->fallen = 1;
        if (w->jumped && !w->jumpLanded) w->jumpLanded = 1;
        w->score = floor(h + 0.5) / 10;
    }
}

static void contact_update(World *w, int k) {
    Contact *c = &w->contacts[k];
    c->current ^= 1;   /* the old manifold becomes the new one's storage */
    Manifold *mf = &c->manifolds[c->current], *old = &c->manifolds[c->current ^ 1];
    c->flags |= CONTACT_ENABLED;
    int s = 0, i = (c->flags & CONTACT_TOUCHING) == CONTACT_TOUCHING;
    Body *n = &w->bodies[c->a], *o = &w->bodies[c->b];
    int r = aabb_overlap(&n->aabb, &o->aabb);
    if (n->type != 2 || o->type != 2) c->flags |= CONTACT_CONTINUOUS;
    else c->flags &= ~CONTACT_CONTINUOUS;
    if (r) {
        collide_polygons(w, mf, n, &n->xf, o, &o->xf);
        s = mf->pointCount > 0;
        for (int u = 0; u < mf->pointCount; u++) {
            ManifoldPoint *d = &mf->points[u];
            d->normalImpulse = 0; d->tangentImpulse = 0;
            for (int f = 0; f < old->pointCount; f++) {
                if (old->points[f].key == d->key) {
                    d->normalImpulse = old->points[f].normalImpulse;
                    d->tangentImpulse = old->points[f].tangentImpulse;
                    break;
                }
            }
        }
    } else {
        mf->pointCount = 0;
    }
    if (s != i) { body_set_awake(n, 1); body_set_awake(o, 1); }
    if (s) c->flags |= CONTACT_TOUCHING; else c->flags &= ~CONTACT_TOUCHING;
    if (!i && s) begin_contact(w, c);
}

static void collide(World *w) {
    int t = w->contactList;
    while (t != NIL) {
        Contact *c = &w->contacts[t];
        int next = c->next;
        Body *i = &w->bodies[c->a], *n = &w->bodies[c->b];
        if ((i->flags & BODY_AWAKE) || (n->flags & BODY_AWAKE)) {
            if (aabb_overlap(&w->nodes[i->proxy].aabb, &w->nodes[n->proxy].aabb)) {
                contact_update(w, t);
            } else {
                destroy_contact(w, t);
            }
        }
        t = next;
    }
}

/* ------------------------------------------------------------------ contact solver (2.1a) */

typedef struct {
    Constraint c[MAX_CONTACTS];
    int count;
} Solver;

static void solver_initialize(World *w, Solver *sv, const int *contacts, int count) {
    sv->count = count;
    for (int r = 0; r < count; r++) {
        Contact *n = &w->contacts[contacts[r]];
        Body *u = &w->bodies[n->a], *d = &w->bodies[n->b];
        double _ = u->radius, m = d->radius;
        Manifold *y = &n->manifolds[n->current];
        double f = sqrt(u->friction * d->friction);
        double g = u->restitution > d->restitution ? u->restitution : d->restitution;
        double v = u->v.x, x = u->v.y, ww = d->v.x, b = d->v.y, B = u->w, S = d->w;
        Vec2 normal, wp[2];
        world_manifold(y, &u->xf, _, &d->xf, m, &normal, wp);
        double A = normal.x, C = normal.y;
        Constraint *I = &sv->c[r];
        I->a = n->a; I->b = n->b; I->contact = contacts[r];
        I->normal.x = A; I->normal.y = C;
        I->pointCount = y->pointCount;
        I->friction = f; I->restitution = g;
        I->localPlaneNormal = y->localPlaneNormal;
        I->localPoint = y->localPoint;
        I->radius = _ + m;
        I->type = y->type;
        for (int V = 0; V < I->pointCount; V++) {
            ManifoldPoint *z = &y->points[V];
            ConstraintPoint *T = &I->points[V];
            T->normalImpulse = z->normalImpulse;
            T->tangentImpulse = z->tangentImpulse;
            T->localPoint = z->localPoint;
            double P = T->rA.x = wp[V].x - u->sweep.c.x;
            double D = T->rA.y = wp[V].y - u->sweep.c.y;
            double L = T->rB.x = wp[V].x - d->sweep.c.x;
            double F = T->rB.y = wp[V].y - d->sweep.c.y;
            double K = P * C - D * A, E = L * C - F * A;
            K *= K; E *= E;
            double G = u->invMass + d->invMass + u->invI * K + d->invI * E;
            T->normalMass = 1 / G;
            double j = u->mass * u->invMass + d->mass * d->invMass;
            j += u->mass * u->invI * K + d->mass * d->invI * E;
            T->equalizedMass = 1 / j;
            double R = C, O = -A;
            double J = P * O - D * R, N = L * O - F * R;
            J *= J; N *= N;
            double W = u->invMass + d->invMass + u->invI * J + d->invI * N;
            T->tangentMass = 1 / W;
            T->velocityBias = 0;
            double Z = ww + -S * F - v - -B * D;
            double q = b + S * L - x - B * P;
            double U = I->normal.x * Z + I->normal.y * q;
            if (U < -VELOCITY_THRESHOLD) T->velocityBias += -I->restitution * U;
        }
        if (I->pointCount == 2) {
            ConstraintPoint *H = &I->points[0], *Q = &I->points[1];
            double X = u->invMass, Y = u->invI, $ = d->invMass, te = d->invI;
            double ee = H->rA.x * C - H->rA.y * A, se = H->rB.x * C - H->rB.y * A;
            double ie = Q->rA.x * C - Q->rA.y * A, ne = Q->rB.x * C - Q->rB.y * A;
            double oe = X + $ + Y * ee * ee + te * se * se;
            double re = X + $ + Y * ie * ie + te * ne * ne;
            double ae = X + $ + Y * ee * ie + te * se * ne;
            if (100 * (oe * re - ae * ae) > oe * oe) {
                I->K.col1.x = oe; I->K.col1.y = ae; I->K.col2.x = ae; I->K.col2.y = re;
                I->normalMass = mat_inverse(&I->K);
            } else {
                I->pointCount = 1;
            }
        }
    }
}

static void solver_init_velocity(World *w, Solver *sv, double dtRatio) {
    for (int n = 0; n < sv->count; n++) {
        Constraint *o = &sv->c[n];
        Body *r = &w->bodies[o->a], *a = &w->bodies[o->b];
        double l = r->invMass, h = r->invI, c = a->invMass, _ = a->invI;
        double m = o->normal.x, u = o->normal.y, d = u, p = -m;
        for (int f = 0; f < o->pointCount; f++) {
            ConstraintPoint *g = &o->points[f];
            g->normalImpulse *= dtRatio;
            g->tangentImpulse *= dtRatio;
            double v = g->normalImpulse * m + g->tangentImpulse * d;
            double x = g->normalImpulse * u + g->tangentImpulse * p;
            r->w -= h * (g->rA.x * x - g->rA.y * v);
            r->v.x -= l * v;
            r->v.y -= l * x;
            a->w += _ * (g->rB.x * x - g->rB.y * v);
            a->v.x += c * v;
            a->v.y += c * x;
        }
    }
}

#define APPLY_TWO() do { \
    c_ = $ - O; _ = te - J; \
    m = c_ * T; u = c_ * P; d = _ * T; y = _ * P; \
    C->x -= k * (m + d); C->y -= k * (u + y); \
    S -= M * (j->rA.x * u - j->rA.y * m + R->rA.x * y - R->rA.y * d); \
    I->x += V * (m + d); I->y += V * (u + y); \
    A += z * (j->rB.x * u - j->rB.y * m + R->rB.x * y - R->rB.y * d); \
    j->normalImpulse = $; R->normalImpulse = te; \
} while (0)

static void solver_solve_velocity(World *w, Solver *sv) {
    for (int g = 0; g < sv->count; g++) {
        Constraint *ww = &sv->c[g];
        Body *b = &w->bodies[ww->a], *B = &w->bodies[ww->b];
        double S = b->w, A = B->w;
        Vec2 *C = &b->v, *I = &B->v;
        double k = b->invMass, M = b->invI, V = B->invMass, z = B->invI;
        double T = ww->normal.x, P = ww->normal.y, D = P, L = -T;
        double F = ww->friction;
        for (int K = 0; K < ww->pointCount; K++) {
            ConstraintPoint *t = &ww->points[K];
            double e = I->x - A * t->rB.y - C->x + S * t->rA.y;
            double s = I->y + A * t->rB.x - C->y - S * t->rA.x;
            double n = e * D + s * L;
            double o = t->tangentMass * -n;
            double r = F * t->normalImpulse;
            double a = clampd(t->tangentImpulse + o, -r, r);
            o = a - t->tangentImpulse;
            double l = o * D, h = o * L;
            C->x -= k * l; C->y -= k * h;
            S -= M * (t->rA.x * h - t->rA.y * l);
            I->x += V * l; I->y += V * h;
            A += z * (t->rB.x * h - t->rB.y * l);
            t->tangentImpulse = a;
        }
        if (ww->pointCount == 1) {
            ConstraintPoint *t = &ww->points[0];
            double e = I->x + -A * t->rB.y - C->x - -S * t->rA.y;
            double s = I->y + A * t->rB.x - C->y - S * t->rA.x;
            double i = e * T + s * P;
            double o = -t->normalMass * (i - t->velocityBias);
            double a = t->normalImpulse + o;
            a = a > 0 ? a : 0;
            o = a - t->normalImpulse;
            double l = o * T, h = o * P;
            C->x -= k * l; C->y -= k * h;
            S -= M * (t->rA.x * h - t->rA.y * l);
            I->x += V * l; I->y += V * h;
            A += z * (t->rB.x * h - t->rB.y * l);
            t->normalImpulse = a;
        } else {
            ConstraintPoint *j = &ww->points[0], *R = &ww->points[1];
            double O = j->normalImpulse, J = R->normalImpulse;
            double N = I->x - A * j->rB.y - C->x + S * j->rA.y;
            double W = I->y + A * j->rB.x - C->y - S * j->rA.x;
            double Z = I->x - A * R->rB.y - C->x + S * R->rA.y;
            double q = I->y + A * R->rB.x - C->y - S * R->rA.x;
            double U = N * T + W * P, H = Z * T + q * P;
            double Q = U - j->velocityBias, X = H - R->velocityBias;
            Mat22 *f = &ww->K;
            Q -= f->col1.x * O + f->col2.x * J;
            X -= f->col1.y * O + f->col2.y * J;
            double c_, _, m, u, d, y;
            f = &ww->normalMass;
            double $ = -(f->col1.x * Q + f->col2.x * X);
            double te = -(f->col1.y * Q + f->col2.y * X);
            if ($ >= 0 && te >= 0) { APPLY_TWO(); goto done; }
            $ = -j->normalMass * Q; te = 0; U = 0; H = ww->K.col1.y * $ + X;
            if ($ >= 0 && H >= 0) { APPLY_TWO(); goto done; }
            $ = 0; te = -R->normalMass * X; U = ww->K.col2.x * te + Q; H = 0;
            if (te >= 0 && U >= 0) { APPLY_TWO(); goto done; }
            $ = 0; te = 0; U = Q; H = X;
            if (U >= 0 && H >= 0) { APPLY_TWO(); goto done; }
        }
    done:
        b->w = S; B->w = A;
    }
}

static void solver_finalize(World *w, Solver *sv) {
    for (int t = 0; t < sv->count; t++) {
        Constraint *i = &sv->c[t];
        Manifold *n = &w->contacts[i->contact].manifolds[w->contacts[i->contact].current];
        for (int o = 0; o < i->pointCount; o++) {
            n->points[o].normalImpulse = i->points[o].normalImpulse;
            n->points[o].tangentImpulse = i->points[o].tangentImpulse;
        }
    }
}

/* B2PositionSolverManifold.initialize: FACE_B is FACE_A with the bodies swapped, the normal
 * turned afterwards (the separations use it unturned). */
static void position_manifold(const World *w, const Constraint *t, Vec2 *normal, Vec2 points[2], double sep[2]) {
    int faceA = t->type == MANIFOLD_FACE_A;
    const Body *ref = &w->bodies[faceA ? t->a : t->b], *inc = &w->bodies[faceA ? t->b : t->a];
    const Mat22 *i = &ref->xf.R;
    const Vec2 *n = &t->localPlaneNormal;
    normal->x = i->col1.x * n->x + i->col2.x * n->y;
    normal->y = i->col1.y * n->x + i->col2.y * n->y;
    n = &t->localPoint;
    double o = ref->xf.position.x + (i->col1.x * n->x + i->col2.x * n->y);
    double r = ref->xf.position.y + (i->col1.y * n->x + i->col2.y * n->y);
    i = &inc->xf.R;
    for (int v = 0; v < t->pointCount; v++) {
        n = &t->points[v].localPoint;
        double e = inc->xf.position.x + (i->col1.x * n->x + i->col2.x * n->y);
        double s = inc->xf.position.y + (i->col1.y * n->x + i->col2.y * n->y);
        sep[v] = (e - o) * normal->x + (s - r) * normal->y - t->radius;
        points[v].x = e; points[v].y = s;
    }
    if (!faceA) { normal->x *= -1; normal->y *= -1; }
}

static int solver_solve_position(World *w, Solver *sv, double baumgarte) {
    double e = 0;
    for (int n = 0; n < sv->count; n++) {
        Constraint *o = &sv->c[n];
        Body *r = &w->bodies[o->a], *a = &w->bodies[o->b];
        double l = r->mass * r->invMass, h = r->mass * r->invI;
        double c = a->mass * a->invMass, _ = a->mass * a->invI;
        Vec2 m, pts[2];
        double seps[2];
        position_manifold(w, o, &m, pts, seps);
        for (int y = 0; y < o->pointCount; y++) {
            ConstraintPoint *f = &o->points[y];
            Vec2 g = pts[y];
            double v = seps[y];
            double x = g.x - r->sweep.c.x, ww = g.y - r->sweep.c.y;
            double b = g.x - a->sweep.c.x, B = g.y - a->sweep.c.y;
            e = v > e ? e : v;
            double S = clampd(baumgarte * (v + LINEAR_SLOP), -MAX_LINEAR_CORRECTION, 0);
            double A = -f->equalizedMass * S;
            double C = A * m.x, I = A * m.y;
            r->sweep.c.x -= l * C;
            r->sweep.c.y -= l * I;
            r->sweep.a -= h * (x * I - ww * C);
            body_synchronize_transform(r);
            a->sweep.c.x += c * C;
            a->sweep.c.y += c * I;
            a->sweep.a += _ * (b * I - B * C);
            body_synchronize_transform(a);
        }
    }
    return e > -1.5 * LINEAR_SLOP;
}

/* ------------------------------------------------------------------ revolute joint (2.0 style) */

/* A joint's anchor on body b, relative to its centre, in world axes. */
static inline Vec2 joint_arm(const Body *b, Vec2 anchor) {
    const Mat22 *e = &b->xf.R;
    double o = anchor.x - b->sweep.localCenter.x, r = anchor.y - b->sweep.localCenter.y;
    Vec2 out = {e->col1.x * o + e->col2.x * r, e->col1.y * o + e->col2.y * r};
    return out;
}

/* The point constraint's mass matrix K = K1 + K2 + K3, summed as the port sums it. */
static Mat22 joint_point_mass(const Body *A, const Body *B, Vec2 rA, Vec2 rB) {
    double mA = A->invMass, mB = B->invMass, iA = A->invI, iB = B->invI;
    Mat22 K1, K2, K3, K;
    K1.col1.x = mA + mB; K1.col2.x = 0; K1.col1.y = 0; K1.col2.y = mA + mB;
    K2.col1.x = iA * rA.y * rA.y; K2.col2.x = -iA * rA.x * rA.y;
    K2.col1.y = -iA * rA.x * rA.y; K2.col2.y = iA * rA.x * rA.x;
    K3.col1.x = iB * rB.y * rB.y; K3.col2.x = -iB * rB.x * rB.y;
    K3.col1.y = -iB * rB.x * rB.y; K3.col2.y = iB * rB.x * rB.x;
    K = K1;
    K.col1.x += K2.col1.x; K.col1.y += K2.col1.y; K.col2.x += K2.col2.x; K.col2.y += K2.col2.y;
    K.col1.x += K3.col1.x; K.col1.y += K3.col1.y; K.col2.x += K3.col2.x; K.col2.y += K3.col2.y;
    return K;
}

static void joint_init_velocity(World *w, Joint *j, double dt) {
    Body *i = &w->bodies[j->a], *n = &w->bodies[j->b];
    Vec2 rA = joint_arm(i, j->localAnchor1), rB = joint_arm(n, j->localAnchor2);
    double o = rA.x, r = rA.y, a = rB.x, l = rB.y;
    double h = i->invMass, c = n->invMass, _ = i->invI, m = n->invI;
    Mat22 K = joint_point_mass(i, n, rA, rB);
    j->pivotMass = mat_inverse(&K);
    j->motorMass = 1 / (_ + m);
    if (!j->enableMotor) j->motorForce = 0;
    if (j->enableLimit) {
        double u = n->sweep.a - i->sweep.a - j->referenceAngle;
        if (absd(j->upper - j->lower) < 2 * ANGULAR_SLOP) j->limitState = 3;
        else if (u <= j->lower) { if (j->limitState != 1) j->limitForce = 0; j->limitState = 1; }
        else if (u >= j->upper) { if (j->limitState != 2) j->limitForce = 0; j->limitState = 2; }
        else { j->limitState = 0; j->limitForce = 0; }
    } else {
        j->limitForce = 0;
    }
    /* warm starting is always on in QWOP */
    i->v.x -= dt * h * j->pivotForce.x;
    i->v.y -= dt * h * j->pivotForce.y;
    i->w -= dt * _ * (o * j->pivotForce.y - r * j->pivotForce.x + j->motorForce + j->limitForce);
    n->v.x += dt * c * j->pivotForce.x;
    n->v.y += dt * c * j->pivotForce.y;
    n->w += dt * m * (a * j->pivotForce.y - l * j->pivotForce.x + j->motorForce + j->limitForce);
    j->limitPositionImpulse = 0;
}

static void joint_solve_velocity(World *w, Joint *j, double dt, double inv_dt) {
    Body *i = &w->bodies[j->a], *n = &w->bodies[j->b];
    Vec2 rA = joint_arm(i, j->localAnchor1), rB = joint_arm(n, j->localAnchor2);
    double o = rA.x, r = rA.y, a = rB.x, l = rB.y;
    double c = n->v.x + -n->w * l - i->v.x - -i->w * r;
    double _ = n->v.y + n->w * a - i->v.y - i->w * o;
    double m = -inv_dt * (j->pivotMass.col1.x * c + j->pivotMass.col2.x * _);
    double u = -inv_dt * (j->pivotMass.col1.y * c + j->pivotMass.col2.y * _);
    j->pivotForce.x += m; j->pivotForce.y += u;
    double d = dt * m, y = dt * u;
    i->v.x -= i->invMass * d;
    i->v.y -= i->invMass * y;
    i->w -= i->invI * (o * y - r * d);
    n->v.x += n->invMass * d;
    n->v.y += n->invMass * y;
    n->w += n->invI * (a * y - l * d);
    if (j->enableMotor && j->limitState != 3) {
        double f = n->w - i->w - j->motorSpeed;
        double g = -inv_dt * j->motorMass * f;
        double v = j->motorForce;
        j->motorForce = clampd(j->motorForce + g, -j->maxMotorTorque, j->maxMotorTorque);
        g = j->motorForce - v;
        i->w -= i->invI * dt * g;
        n->w += n->invI * dt * g;
    }
    if (j->enableLimit && j->limitState != 0) {
        double x = n->w - i->w;
        double ww = -inv_dt * j->motorMass * x;
        if (j->limitState == 3) j->limitForce += ww;
        else if (j->limitState == 1) {
            double h = j->limitForce;
            j->limitForce = maxd(j->limitForce + ww, 0);
            ww = j->limitForce - h;
        } else if (j->limitState == 2) {
            double h = j->limitForce;
            j->limitForce = mind(j->limitForce + ww, 0);
            ww = j->limitForce - h;
        }
        i->w -= i->invI * dt * ww;
        n->w += n->invI * dt * ww;
    }
}

static int joint_solve_position(World *w, Joint *j) {
    Body *i = &w->bodies[j->a], *n = &w->bodies[j->b];
    Vec2 rA = joint_arm(i, j->localAnchor1), rB = joint_arm(n, j->localAnchor2);
    double r = rA.x, a = rA.y, h = rB.x, c = rB.y;
    double _ = i->sweep.c.x + r, m = i->sweep.c.y + a;
    double u = n->sweep.c.x + h, d = n->sweep.c.y + c;
    double y = u - _, f = d - m;
    double o = sqrt(y * y + f * f);
    Mat22 K = joint_point_mass(i, n, rA, rB);
    double b, B;
    {
        double i1 = K.col1.x, n1 = K.col2.x, o1 = K.col1.y, r1 = K.col2.y;
        double a1 = i1 * r1 - n1 * o1;
        if (a1 != 0) a1 = 1 / a1;
        double e1 = -y, s1 = -f;
        b = a1 * (r1 * e1 - n1 * s1);
        B = a1 * (i1 * s1 - o1 * e1);
    }
    i->sweep.c.x -= i->invMass * b;
    i->sweep.c.y -= i->invMass * B;
    i->sweep.a -= i->invI * (r * B - a * b);
    n->sweep.c.x += n->invMass * b;
    n->sweep.c.y += n->invMass * B;
    n->sweep.a += n->invI * (h * B - c * b);
    body_synchronize_transform(i);
    body_synchronize_transform(n);
    double S = 0;
    if (j->enableLimit && j->limitState != 0) {
        double A = n->sweep.a - i->sweep.a - j->referenceAngle, C = 0, e, t;
        if (j->limitState == 3) {
            e = clampd(A, -MAX_ANGULAR_CORRECTION, MAX_ANGULAR_CORRECTION);
            C = -j->motorMass * e;
            S = absd(e);
        } else if (j->limitState == 1) {
            e = A - j->lower;
            S = maxd(0, -e);
            e = clampd(e + ANGULAR_SLOP, -MAX_ANGULAR_CORRECTION, 0);
            C = -j->motorMass * e;
            t = j->limitPositionImpulse;
            j->limitPositionImpulse = maxd(j->limitPositionImpulse + C, 0);
            C = j->limitPositionImpulse - t;
        } else if (j->limitState == 2) {
            e = A - j->upper;
            S = maxd(0, e);
            e = clampd(e - ANGULAR_SLOP, 0, MAX_ANGULAR_CORRECTION);
            C = -j->motorMass * e;
            t = j->limitPositionImpulse;
            j->limitPositionImpulse = mind(j->limitPositionImpulse + C, 0);
            C = j->limitPositionImpulse - t;
        }
        i->sweep.a -= i->invI * C;
        n->sweep.a += n->invI * C;
        body_synchronize_transform(i);
        body_synchronize_transform(n);
    }
    return o <= LINEAR_SLOP && S <= ANGULAR_SLOP;
}

/* ------------------------------------------------------------------ islands and the step */

static void synchronize_fixtures(World *w, Body *b) {
    Xf xf1;
    uint64_t bits;
    memcpy(&bits, &b->sweep.a0, sizeof bits);
    if (b->rotation0Valid && bits == b->rotation0Of) xf1.R = b->R0;   /* the same bits, the same rotation */
    else mat_set(&xf1.R, b->sweep.a0);
    Mat22 *e = &xf1.R;
    Vec2 *s = &b->sweep.localCenter;
    xf1.position.x = b->sweep.c0.x - (e->col1.x * s->x + e->col2.x * s->y);
    xf1.position.y = b->sweep.c0.y - (e->col1.y * s->x + e->col2.y * s->y);
    if (!b->hasFixture) return;
    AABB i, n;
    shape_compute_aabb(b, &i, &xf1);
    shape_compute_aabb(b, &n, &b->xf);
    aabb_combine(&b->aabb, &i, &n);
    Vec2 d = {b->xf.position.x - xf1.position.x, b->xf.position.y - xf1.position.y};
    move_proxy(w, b->proxy, &b->aabb, d);
}

static void island_solve(World *w, const int *bodies, int bodyCount, const int *contacts, int contactCount,
                         const int *joints, int jointCount, double dt, double inv_dt, double dtRatio) {
    Solver sv;  /* scratch: fully rewritten by every call */
    for (int o = 0; o < bodyCount; o++) {
        Body *i = &w->bodies[bodies[o]];
        if (i->type == 2) {
            i->v.x += dt * (0.0 + i->invMass * i->force.x);
            i->v.y += dt * (10.0 + i->invMass * i->force.y);
            i->w += dt * i->invI * i->torque;
            /* damping is 0: multiplying by clamp(1 - 0, 0, 1) = 1 changes nothing */
        }
    }
    solver_initialize(w, &sv, contacts, contactCount);
    solver_init_velocity(w, &sv, dtRatio);
    for (int h = 0; h < jointCount; h++) joint_init_velocity(w, &w->joints[joints[h]], dt);
    for (int m = 0; m < 5; m++) {
        for (int d = 0; d < jointCount; d++) joint_solve_velocity(w, &w->joints[joints[d]], dt, inv_dt);
        solver_solve_velocity(w, &sv);
    }
    solver_finalize(w, &sv);
    for (int ww = 0; ww < bodyCount; ww++) {
        Body *i = &w->bodies[bodies[ww]];
        if (i->type == 0) continue;
        double S = dt * i->v.x, A = dt * i->v.y;
        if (S * S + A * A > MAX_TRANSLATION_SQUARED) {
            double t = sqrt(i->v.x * i->v.x + i->v.y * i->v.y);
            if (!(t < JS_MIN_VALUE)) { double e = 1 / t; i->v.x *= e; i->v.y *= e; }
            i->v.x *= MAX_TRANSLATION * inv_dt;
            i->v.y *= MAX_TRANSLATION * inv_dt;
        }
        double C = dt * i->w;
        if (C * C > MAX_ROTATION_SQUARED)
            i->w = i->w < 0 ? -MAX_ROTATION * inv_dt : MAX_ROTATION * inv_dt;
        i->sweep.c0 = i->sweep.c;
        i->sweep.a0 = i->sweep.a;
        i->R0 = i->xf.R;   /* synchronize_fixtures needs the rotation of a0 again */
        i->rotation0Of = i->rotationOf;
        i->rotation0Valid = i->rotationValid;
        i->sweep.c.x += dt * i->v.x;
        i->sweep.c.y += dt * i->v.y;
        i->sweep.a += dt * i->w;
        body_synchronize_transform(i);
    }
    for (int I = 0; I < 5; I++) {
        int M = solver_solve_position(w, &sv, CONTACT_BAUMGARTE);
        int V = 1;
        for (int z = 0; z < jointCount; z++) {
            int D = joint_solve_position(w, &w->joints[joints[z]]);
            V = V && D;
        }
        if (M && V) break;
    }
    /* the world allows sleep */
    double L = DBL_MAX;
    double F = LINEAR_SLEEP_TOLERANCE * LINEAR_SLEEP_TOLERANCE;
    double K = ANGULAR_SLEEP_TOLERANCE * ANGULAR_SLEEP_TOLERANCE;
    for (int E = 0; E < bodyCount; E++) {
        Body *i = &w->bodies[bodies[E]];
        if (i->type == 0) continue;
        if (!(i->flags & BODY_ALLOW_SLEEP)) { i->sleepTime = 0; L = 0; }
        if (!(i->flags & BODY_ALLOW_SLEEP) || i->w * i->w > K || i->v.x * i->v.x + i->v.y * i->v.y > F) {
            i->sleepTime = 0; L = 0;
        } else {
            i->sleepTime += dt;
            L = mind(L, i->sleepTime);
        }
    }
    if (L >= TIME_TO_SLEEP)
        for (int R = 0; R < bodyCount; R++) body_set_awake(&w->bodies[bodies[R]], 0);
}

static void world_solve(World *w, double dt, double inv_dt, double dtRatio) {
    int bodies[MAX_BODIES], contacts[MAX_CONTACTS], joints[MAX_JOINTS], stack[MAX_BODIES + MAX_CONTACTS];
    int contactIsland[MAX_CONTACTS];
    for (int e = w->bodyList; e != NIL; e = w->bodies[e].next) w->bodies[e].flags &= ~BODY_ISLAND;
    for (int n = 0; n < MAX_CONTACTS; n++) contactIsland[n] = 0;
    for (int o = w->jointList; o != NIL; o = w->joints[o].next) w->joints[o].islandFlag = 0;
    for (int a = w->bodyList; a != NIL; a = w->bodies[a].next) {
        Body *seed = &w->bodies[a];
        if (seed->flags & BODY_ISLAND) continue;
        if (!(seed->flags & BODY_AWAKE) || !(seed->flags & BODY_ACTIVE)) continue;
        if (seed->type == 0) continue;
        int nb = 0, nc = 0, nj = 0, l = 0;
        stack[l++] = a;
        seed->flags |= BODY_ISLAND;
        while (l > 0) {
            int e = stack[--l];
            Body *eb = &w->bodies[e];
            bodies[nb++] = e;
            if (!(eb->flags & BODY_AWAKE)) body_set_awake(eb, 1);
            if (eb->type == 0) continue;
            for (int c = eb->contactList; c != NIL; c = edge_at(w, c)->next) {
                Edge *ce = edge_at(w, c);
                Contact *ct = &w->contacts[ce->owner];
                if (contactIsland[ce->owner] || !(ct->flags & CONTACT_ENABLED) || !(ct->flags & CONTACT_TOUCHING))
                    continue;
                contacts[nc++] = ce->owner;
                contactIsland[ce->owner] = 1;
                Body *h = &w->bodies[ce->other];
                if (!(h->flags & BODY_ISLAND)) { stack[l++] = ce->other; h->flags |= BODY_ISLAND; }
            }
            for (int je = eb->jointList; je != NIL; je = jedge_at(w, je)->next) {
                Edge *jd = jedge_at(w, je);
                Joint *jt = &w->joints[jd->owner];
                if (jt->islandFlag) continue;
                Body *h = &w->bodies[jd->other];
                if (!(h->flags & BODY_ACTIVE)) continue;
                joints[nj++] = jd->owner;
                jt->islandFlag = 1;
                if (!(h->flags & BODY_ISLAND)) { stack[l++] = jd->other; h->flags |= BODY_ISLAND; }
            }
        }
        island_solve(w, bodies, nb, contacts, nc, joints, nj, dt, inv_dt, dtRatio);
        for (int m = 0; m < nb; m++)
            if (w->bodies[bodies[m]].type == 0) w->bodies[bodies[m]].flags &= ~BODY_ISLAND;
    }
    double t0 = g_profile ? now() : 0;
    for (int e = w->bodyList; e != NIL; e = w->bodies[e].next) {
        Body *b = &w->bodies[e];
        if ((b->flags & BODY_AWAKE) && (b->flags & BODY_ACTIVE) && b->type != 0) synchronize_fixtures(w, b);
    }
    find_new_contacts(w);
    if (g_profile) g_seconds[2] += now() - t0;   /* counted inside the solver's time: subtracted by the caller */
}

static void world_step(World *w) {
    const double dt = 0.04;
    if (w->newFixture) { find_new_contacts(w); w->newFixture = 0; }
    double inv_dt = dt > 0 ? 1 / dt : 0;
    double dtRatio = w->inv_dt0 * dt;
    if (g_profile) {
        double t0 = now();
        collide(w);
        double t1 = now();
        world_solve(w, dt, inv_dt, dtRatio);
        g_seconds[0] += t1 - t0;
        g_seconds[1] += now() - t1;
    } else {
        collide(w);
        world_solve(w, dt, inv_dt, dtRatio);
    }
    w->inv_dt0 = inv_dt;
}

/* ------------------------------------------------------------------ building QWOP's world */

static void set_position_and_angle(World *w, int k, double x, double y, double angle) {
    Body *b = &w->bodies[k];
    body_set_rotation(b, angle);
    b->xf.position.x = x; b->xf.position.y = y;
    Mat22 *i = &b->xf.R;
    Vec2 *n = &b->sweep.localCenter;
    b->sweep.c.x = i->col1.x * n->x + i->col2.x * n->y;
    b->sweep.c.y = i->col1.y * n->x + i->col2.y * n->y;
    b->sweep.c.x += b->xf.position.x;
    b->sweep.c.y += b->xf.position.y;
    b->sweep.c0 = b->sweep.c;
    b->sweep.a0 = b->sweep.a = angle;
    if (b->hasFixture) {
        AABB i1, n1;
        shape_compute_aabb(b, &i1, &b->xf);
        shape_compute_aabb(b, &n1, &b->xf);
        aabb_combine(&b->aabb, &i1, &n1);
        Vec2 d = {0, 0};
        d.x = b->xf.position.x - b->xf.position.x;
        d.y = b->xf.position.y - b->xf.position.y;
        move_proxy(w, b->proxy, &b->aabb, d);
    }
    find_new_contacts(w);
}

static void compute_mass(Body *b) {
    /* B2PolygonShape.computeMass, then B2Body.resetMassData for one fixture */
    double s = 0, i = 0, n = 0, o = 0, r = 0, a = 0, l = 0.3333333333333333;
    for (int m = 0; m < 4; m++) {
        Vec2 u = b->verts[m], _ = m + 1 < 4 ? b->verts[m + 1] : b->verts[0];
        double d = u.x - r, p = u.y - a, y = _.x - r, f = _.y - a;
        double g = d * f - p * y, v = 0.5 * g;
        n += v;
        s += v * l * (r + u.x + _.x);
        i += v * l * (a + u.y + _.y);
        double x = r, ww = a, bb = d, B = p, S = y, A = f;
        double C = l * (0.25 * (bb * bb + S * bb + S * S) + (x * bb + x * S)) + 0.5 * x * x;
        double I = l * (0.25 * (B * B + A * B + A * A) + (ww * B + ww * A)) + 0.5 * ww * ww;
        o += g * (C + I);
    }
    double mass = b->density * n;
    s *= 1 / n; i *= 1 / n;
    double I = b->density * o;
    b->mass = 0; b->invMass = 0; b->I = 0; b->invI = 0;
    b->sweep.localCenter.x = 0; b->sweep.localCenter.y = 0;
    if (b->type != 2) return;
    Vec2 t = {0, 0};
    b->mass += mass;
    t.x += s * mass; t.y += i * mass;
    b->I += I;
    if (b->mass > 0) { b->invMass = 1 / b->mass; t.x *= b->invMass; t.y *= b->invMass; }
    else { b->mass = 1; b->invMass = 1; }
    if (b->I > 0) {
        b->I -= b->mass * (t.x * t.x + t.y * t.y);
        b->I *= 1.0;   /* inertia scale */
        b->invI = 1 / b->I;
    } else { b->I = 0; b->invI = 0; }
    Vec2 ic = b->sweep.c;
    b->sweep.localCenter = t;
    Mat22 *R = &b->xf.R;
    b->sweep.c0.x = R->col1.x * t.x + R->col2.x * t.y;
    b->sweep.c0.y = R->col1.y * t.x + R->col2.y * t.y;
    b->sweep.c0.x += b->xf.position.x;
    b->sweep.c0.y += b->xf.position.y;
    b->sweep.c = b->sweep.c0;
    b->v.x += b->w * -(b->sweep.c.y - ic.y);
    b->v.y += b->w * (b->sweep.c.x - ic.x);
}

/* createBody at (x, y) with angle 0, then its box fixture, as the game's physics component does */
static int create_box_body(World *w, int type, double x, double y, double hw, double hh, double density,
                           double friction, int category, int mask, int awake, int tag) {
    int k = w->bodyCount++;
    Body *b = &w->bodies[k];
    memset(b, 0, sizeof *b);
    b->type = type;
    b->flags = BODY_ALLOW_SLEEP | BODY_AWAKE | BODY_ACTIVE;
    b->tag = tag;
    b->xf.position.x = x; b->xf.position.y = y;
    mat_set(&b->xf.R, 0.0);
    b->sweep.t0 = 1;
    b->sweep.a0 = b->sweep.a = 0.0;
    Mat22 *s = &b->xf.R;
    Vec2 *lc = &b->sweep.localCenter;
    b->sweep.c.x = s->col1.x * lc->x + s->col2.x * lc->y;
    b->sweep.c.y = s->col1.y * lc->x + s->col2.y * lc->y;
    b->sweep.c.x += b->xf.position.x;
    b->sweep.c.y += b->xf.position.y;
    b->sweep.c0 = b->sweep.c;
    b->contactList = NIL; b->jointList = NIL;
    if (type == 2) { b->mass = 1; b->invMass = 1; }
    b->prev = NIL;
    b->next = w->bodyList;
    if (w->bodyList != NIL) w->bodies[w->bodyList].prev = k;
    w->bodyList = k;
    /* the fixture */
    b->hasFixture = 1;
    b->verts[0] = (Vec2){-hw, -hh}; b->verts[1] = (Vec2){hw, -hh};
    b->verts[2] = (Vec2){hw, hh}; b->verts[3] = (Vec2){-hw, hh};
    b->normals[0] = (Vec2){0, -1}; b->normals[1] = (Vec2){1, 0};
    b->normals[2] = (Vec2){0, 1}; b->normals[3] = (Vec2){-1, 0};
    b->radius = LINEAR_SLOP;
    b->density = density; b->friction = friction; b->restitution = 0;
    b->category = category; b->mask = mask;
    shape_compute_aabb(b, &b->aabb, &b->xf);
    b->proxy = create_proxy(w, &b->aabb, k);
    if (density > 0) compute_mass(b);
    w->newFixture = 1;
    body_set_awake(b, awake);
    return k;
}

static int create_joint(World *w, int a, int b, double la1x, double la1y, double la2x, double la2y,
                        double reference, double lower, double upper, int enableMotor, double maxTorque) {
    int k = w->jointCount++;
    Joint *j = &w->joints[k];
    memset(j, 0, sizeof *j);
    j->a = a; j->b = b;
    j->localAnchor1 = (Vec2){la1x, la1y};
    j->localAnchor2 = (Vec2){la2x, la2y};
    j->referenceAngle = reference;
    j->lower = lower; j->upper = upper;
    j->maxMotorTorque = maxTorque;
    j->enableLimit = 1; j->enableMotor = enableMotor;
    j->limitState = -1;   /* unset until the first step, as in the port */
    j->prev = NIL;
    j->next = w->jointList;
    if (w->jointList != NIL) w->joints[w->jointList].prev = k;
    w->jointList = k;
    Body *A = &w->bodies[a], *B = &w->bodies[b];
    j->edgeA = (Edge){k, b, NIL, A->jointList};
    if (A->jointList != NIL) jedge_at(w, A->jointList)->prev = 2 * k;
    A->jointList = 2 * k;
    j->edgeB = (Edge){k, a, NIL, B->jointList};
    if (B->jointList != NIL) jedge_at(w, B->jointList)->prev = 2 * k + 1;
    B->jointList = 2 * k + 1;
    return k;
}

/* The runner as the game builds it: creation order, box sizes (half extents), spawn poses.
 * Indices are the state order (torso, head, leftArm, leftForearm, leftThigh, leftCalf,
 * leftFoot, rightArm, rightForearm, rightThigh, rightCalf, rightFoot). */
typedef struct { int part; double hw, hh, density, friction, x, y, angle; } PartSpec;
static const PartSpec PARTS[12] = {
    {0, 3.275, 1.425, 1, 0.2, 2.5111726226000157, -1.8709517533957938, -1.2514497119301329},
    {1, 1.075, 1.325, 1, 0.2, 3.888130278719558, -5.621802929095265, 0.06448415835225099},
    {3, 1.75, 0.55, 1, 0.2, 5.830008603424893, -2.8733539631159584, -1.2049772618421237},
    {4, 2.525, 1.0, 1, 0.2, 2.5648987628203876, 1.648090668682522, -2.0177234426823394},
    {2, 1.85, 0.625, 1, 0.2, 4.417861014480877, -2.806563606410589, 0.9040095895272826},
    {5, 2.5, 0.75, 1, 0.2, 3.12585731974087, 5.525511655361298, -1.5903971528225265},
    {6, 1.35, 0.675, 3, 1.5, 3.926921842806667, 8.08884032049622, 0.12027524643408766},
    {8, 2.225, 0.675, 1, 0.2, 0.4078206420797428, -1.0599953233084172, -1.7553358283857299},
    {7, 1.95, 0.75, 1, 0.2, 1.1812303663272852, -3.5000256518601014, -0.5222217404634386},
    {10, 2.5, 0.75, 1, 0.2, -0.07253905736790486, 5.347881871063159, -0.7588859967104447},
    {11, 1.35, 0.725, 3, 1.5, -1.1254742643908706, 7.567193169625567, 0.5897605418219602},
    {9, 2.65, 1.0, 1, 0.2, 1.6120186135678773, 2.0615320561881516, 1.4849422964528027},
};

/* Joints in creation order, state order index, bodies A (distal) and B, both local anchors. */
typedef struct { int index, a, b; double la1x, la1y, la2x, la2y, ref, lower, upper; int motor; double torque; } JointSpec;
static const JointSpec JOINTS[11] = {
    {0, 1, 0, -0.22839485113389013, 1.1126087775923434, 2.859519853416241, 0.1894010834667077, -1.308996406363529, -0.5, 0, 0, 0},
    {1, 7, 0, 1.2001841231501342, 0.014095940491621661, 2.0154692227269657, -0.963716471396211, -0.7853907065463961, -0.5, 1.5, 1, 1000},
    {2, 2, 0, -1.06207890966549, 0.17409394631566927, 1.9283425691848988, 0.5346402981158307, -2.09438311816829, -2, 0, 1, 1000},
    {3, 4, 0, 1.5149934600879298, 0.10302974517488483, -2.1617729534350554, 0.17997450596313957, 0.7258477508944043, -1.5, 0.5, 1, 6000},
    {4, 9, 0, -2.0961942262183917, 0.18536556036297194, -2.162191390759836, -0.6165265219145436, -2.719359381718199, -1.3, 0.7, 1, 6000},
    {5, 3, 2, -1.2620587423023988, 0.15722668659641342, 1.6027887369842992, -0.14793204384539627, 2.09438311816829, -0.1, 0.5, 0, 0},
    {6, 8, 7, 1.786878910753607, -0.0875161173956252, -1.3780071636887363, 0.014064825719664498, 1.2968199012274688, -0.1, 0.5, 0, 0},
    {7, 5, 4, 2.0031668711363886, 0.29778450493880393, -2.039930985466258, -0.06884320616201656, -0.3953113764119829, -1.6, 0, 1, 3000},
    {8, 10, 9, 1.9464226250774301, 0.23026118775573867, 2.0958596632699917, 0.29461641905670727, 2.2893406247158676, -1.3, 0.3, 1, 3000},
    {9, 6, 5, -0.6270934582479109, -0.06637286435491148, -2.425382538900126, 0.13895539751438638, -1.7244327585010226, -0.5, 0.5, 0, 2000},
    {10, 11, 10, -0.7779783144804977, -0.20811593451266924, -2.2591139640195603, 0.08142886510219238, -1.5708045825942758, -0.5, 0.5, 0, 2000},
};

static void clip_reset(World *w) {
    for (int i = 0; i < 6; i++) { w->clip[i].v.x = 0; w->clip[i].v.y = 0; w->clip[i].id = i; w->clipKeys[i] = 0; }
}

void world_reset(World *w) {
    memset(w, 0, sizeof *w);
    w->bodyList = NIL; w->jointList = NIL; w->contactList = NIL;
    w->root = NIL; w->freeList = NIL;
    clip_reset(w);
    /* the world's own ground body: static, no fixture; first in creation order */
    {
        int k = w->bodyCount++;
        Body *b = &w->bodies[k];
        memset(b, 0, sizeof *b);
        b->flags = BODY_ALLOW_SLEEP | BODY_AWAKE | BODY_ACTIVE;
        b->tag = TAG_NONE;
        mat_set(&b->xf.R, 0.0);
        b->sweep.t0 = 1;
        b->contactList = NIL; b->jointList = NIL; b->proxy = NIL;
        b->prev = NIL; b->next = w->bodyList;
        w->bodyList = k;
    }
    for (int c = 0; c < 3; c++) {   /* the track: three 640 px boxes that follow the camera */
        int k = create_box_body(w, 0, 0, 0, 16, 1.6, 30, 0.2, 1, 0xFFFF, 1, TAG_TRACK);
        set_position_and_angle(w, k, (c * 640.0) / 20, 10.74275, w->bodies[k].sweep.a);
        set_position_and_angle(w, k, w->bodies[k].xf.position.x, w->bodies[k].xf.position.y, 0);
        w->track[c] = k;
    }
    {   /* the start block: not track, so touching it is no fall */
        int k = create_box_body(w, 0, 0, 0, 6.275, 7.475, 1, 0.2, 1, 0xFFFF, 1, TAG_NONE);
        set_position_and_angle(w, k, -39.996249999999996, 2.10625, w->bodies[k].sweep.a);
        set_position_and_angle(w, k, w->bodies[k].xf.position.x, w->bodies[k].xf.position.y, 0);
    }
    w->hurdleBase = create_box_body(w, 2, 10000 / 20.0, 175.5 / 20, 0.5 * 67 / 20, 0.5 * 12 / 20, 1, 0.2, 4, 65529, 0, TAG_HURDLE_BASE);
    w->hurdleTop = create_box_body(w, 2, (10000 + 17.3) / 20, 101.15 / 20, 0.5 * 21.5 / 20, 0.5 * 146 / 20, 1, 0.2, 4, 65531, 0, TAG_HURDLE_TOP);
    create_joint(w, w->hurdleTop, w->hurdleBase, 3.6 / 20, 74.6 / 20, 20.9 / 20, 0.25 / 20, 0, 0, 0, 0, 0);
    for (int p = 0; p < 12; p++) {
        const PartSpec *s = &PARTS[p];
        int k = create_box_body(w, 2, 0, 0, s->hw, s->hh, s->density, s->friction, 2, 65533, 1, s->part);
        set_position_and_angle(w, k, s->x, s->y, w->bodies[k].sweep.a);
        set_position_and_angle(w, k, w->bodies[k].xf.position.x, w->bodies[k].xf.position.y, s->angle);
        w->runner[s->part] = k;
    }
    for (int j = 0; j < 11; j++) {
        const JointSpec *s = &JOINTS[j];
        w->jointOf[s->index] = create_joint(w, w->runner[s->a], w->runner[s->b], s->la1x, s->la1y, s->la2x,
                                            s->la2y, s->ref, s->lower, s->upper, s->motor, s->torque);
    }
    w->cameraX = -10 * 20.0;
    w->cameraY = -200;
}

/* ------------------------------------------------------------------ one game update */

enum { J_NECK, J_RSHOULDER, J_LSHOULDER, J_LHIP, J_RHIP, J_LELBOW, J_RELBOW, J_LKNEE, J_RKNEE, J_LANKLE, J_RANKLE };

static void end_game(World *w) {
    Joint *J = w->joints;
    int *o = w->jointOf;
    J[o[J_RHIP]].motorSpeed = 0; J[o[J_RHIP]].enableMotor = 0;
    J[o[J_LHIP]].motorSpeed = 0; J[o[J_LHIP]].enableMotor = 0;
    J[o[J_RKNEE]].enableLimit = 0; J[o[J_RKNEE]].enableMotor = 0;
    J[o[J_LKNEE]].enableLimit = 0; J[o[J_LKNEE]].enableMotor = 0;
    J[o[J_RSHOULDER]].enableLimit = 0; J[o[J_RSHOULDER]].enableMotor = 0;
    J[o[J_LSHOULDER]].enableLimit = 0; J[o[J_LSHOULDER]].enableMotor = 0;
    w->gameEnded = 1;
}

/* The key handling of an update: motor speeds and, for O and P, the hip limits. */
void world_apply_keys(World *w, int keys) {
    Joint *J = w->joints;
    int *o = w->jointOf;
    int q = keys & 1, ww = keys & 2, kO = keys & 4, kP = keys & 8;
    if (q) {
        J[o[J_RHIP]].motorSpeed = 2.5; J[o[J_LHIP]].motorSpeed = -2.5;
        J[o[J_RSHOULDER]].motorSpeed = -2; J[o[J_RELBOW]].motorSpeed = -10;
        J[o[J_LSHOULDER]].motorSpeed = 2; J[o[J_LELBOW]].motorSpeed = -10;
    } else if (ww) {
        J[o[J_RHIP]].motorSpeed = -2.5; J[o[J_LHIP]].motorSpeed = 2.5;
        J[o[J_RSHOULDER]].motorSpeed = 2; J[o[J_RELBOW]].motorSpeed = 10;
        J[o[J_LSHOULDER]].motorSpeed = -2; J[o[J_LELBOW]].motorSpeed = 10;
    } else {
        J[o[J_RHIP]].motorSpeed = 0; J[o[J_LHIP]].motorSpeed = 0;
        J[o[J_LSHOULDER]].motorSpeed = 0; J[o[J_RSHOULDER]].motorSpeed = 0;
    }
    if (kO) {
        J[o[J_RKNEE]].motorSpeed = 2.5; J[o[J_LKNEE]].motorSpeed = -2.5;
        J[o[J_LHIP]].lower = -1; J[o[J_LHIP]].upper = 1;
        J[o[J_RHIP]].lower = -1.3; J[o[J_RHIP]].upper = 0.7;
    } else if (kP) {
        J[o[J_RKNEE]].motorSpeed = -2.5; J[o[J_LKNEE]].motorSpeed = 2.5;
        J[o[J_LHIP]].lower = -1.5; J[o[J_LHIP]].upper = 0.5;
        J[o[J_RHIP]].lower = -0.8; J[o[J_RHIP]].upper = 1.2;
    } else {
        J[o[J_RKNEE]].motorSpeed = 0; J[o[J_LKNEE]].motorSpeed = 0;
    }
}

void world_update(World *w, int keys) {
    w->keys = keys & 0xF;
    if (!w->pause && !w->gameEnded) w->clockUpdates++;
    for (int i = 0; i < 3; i++) {   /* the track boxes follow last update's camera */
        Body *seg = &w->bodies[w->track[i]];
        double r = ((floor(w->cameraX / 640) + i) * 640) / 20;
        if (r != seg->xf.position.x) set_position_and_angle(w, w->track[i], r, seg->xf.position.y, seg->sweep.a);
    }
    Body *head = &w->bodies[w->runner[1]];
    if (!w->fallen) {
        double t = -4 * (head->sweep.a + 0.2);
        if (head->type == 2) {
            if (!(head->flags & BODY_AWAKE)) body_set_awake(head, 1);
            head->torque += t;
        }
    }
    world_apply_keys(w, keys);
    if (!w->pause) world_step(w);
    w->updates++;
    Body *torso = &w->bodies[w->runner[0]];
    if (torso->sweep.c.y < -5) w->cameraY = torso->sweep.c.y * 20 - 210;
    else if (!w->fallen) w->cameraX = (torso->sweep.c.x + -14) * 20;
    if (!w->jumpLanded) w->score = floor(torso->sweep.c.x + 0.5) / 10;
    if (w->jumpLanded && !w->gameEnded) { w->pause = 1; end_game(w); }
    else if (!w->jumpLanded && !w->gameEnded && w->fallen) end_game(w);
}

int world_status(const World *w) {
    if (w->jumpLanded) return 2;
    if (w->fallen) return 1;
    return 0;
}

/* A fresh world with the runner placed in a raw state (layout.py): positions, angles and
 * velocities of the 12 parts, the clock, the keys, the fallen flag and the head's accumulated
 * torque. Contact and joint caches (warm starting) start empty, so a placed runner is not
 * bit-identical to a played one (a snapshot is). */
void world_place(World *w, const double *state, double headTorque) {
    world_reset(w);
    for (int p = 0; p < 12; p++) {
        const double *s = state + 6 * p;
        int k = w->runner[p];
        set_position_and_angle(w, k, s[0], s[1], s[2]);
        w->bodies[k].v.x = s[3]; w->bodies[k].v.y = s[4]; w->bodies[k].w = s[5];
    }
    Body *torso = &w->bodies[w->runner[0]];
    w->cameraX = (torso->sweep.c.x + -14) * 20;   /* where an update would have left it */
    long n = (long)floor(state[95] * 30 + 0.5);
    w->updates = n; w->clockUpdates = n;
    w->keys = (int)state[96] & 0xF;
    w->bodies[w->runner[1]].torque = headTorque;
    if (state[97] != 0) { w->fallen = 1; end_game(w); }
}
