/* openqwop's physics core: the data of one QWOP world.
 *
 * A world is one plain struct with no pointers (links are indices), so that a snapshot is a
 * memcpy, many worlds sit side by side in one buffer, and Python owns the memory.
 *
 * The algorithms are Box2D's (Erin Catto, zlib licence) as the original QWOP's port runs them:
 * the Box2D 2.0-style revolute joint and the Box2D 2.1a contact solver, in float64, in the
 * original's order of operations (docs/physics-core.md lists what that means).
 */
#ifndef QWOP_WORLD_H
#define QWOP_WORLD_H

#include <stdint.h>

#define MAX_BODIES 20
#define MAX_JOINTS 12
#define MAX_CONTACTS 96
#define MAX_NODES 160
#define MAX_MOVES 128
#define MAX_PAIRS 1024
#define NIL (-1)

typedef struct { double x, y; } Vec2;
typedef struct { Vec2 col1, col2; } Mat22;
typedef struct { Vec2 position; Mat22 R; } Xf;
typedef struct { Vec2 lower, upper; } AABB;
typedef struct { Vec2 localCenter, c0, c; double a0, a, t0; } Sweep;

/* What a body is to the game's rules (the original's user data). */
enum { TAG_NONE = -1, TAG_TRACK = 100, TAG_BLOCK, TAG_HURDLE_BASE, TAG_HURDLE_TOP };

enum { BODY_ISLAND = 1, BODY_AWAKE = 2, BODY_ALLOW_SLEEP = 4, BODY_ACTIVE = 32 };
enum { CONTACT_CONTINUOUS = 2, CONTACT_ISLAND = 4, CONTACT_TOUCHING = 16, CONTACT_ENABLED = 32 };
enum { MANIFOLD_FACE_A = 1, MANIFOLD_FACE_B = 2 };

/* A list link of a contact or joint inside one body's list (Box2D's edges). */
typedef struct { int owner, other, prev, next; } Edge;

typedef struct {
    int type;            /* 0 static, 2 dynamic */
    int flags;
    int tag;             /* runner part index 0..11 in state order, or a TAG_* */
    Xf xf;
    uint64_t rotationOf;  /* the angle (its bits) that xf.R was computed from */
    int rotationValid;
    Mat22 R0;             /* xf.R when the step began (the rotation of sweep.a0), and its angle */
    uint64_t rotation0Of;
    int rotation0Valid;
    Sweep sweep;
    Vec2 v;
    double w;
    Vec2 force;
    double torque;       /* never cleared by the step: the original's head torque accumulates */
    double mass, invMass, I, invI, sleepTime;
    int prev, next;      /* world body list */
    int contactList;     /* head edge: 2 * contact + (0 for node A, 1 for node B) */
    int jointList;       /* head edge: 2 * joint + (0 for edge A, 1 for edge B) */
    /* its one box fixture */
    int hasFixture;
    Vec2 verts[4], normals[4], centroid;
    double radius, density, friction, restitution;
    int category, mask;
    AABB aabb;
    int proxy;
} Body;

typedef struct { Vec2 localPoint; double normalImpulse, tangentImpulse; uint32_t key; } ManifoldPoint;
typedef struct {
    ManifoldPoint points[2];
    Vec2 localPlaneNormal, localPoint;
    int type, pointCount;
} Manifold;

typedef struct {
    int used;
    int a, b;            /* the bodies of fixture A and fixture B */
    int flags;
    Manifold manifolds[2];
    int current;         /* index of m_manifold; the other is m_oldManifold */
    int prev, next;      /* world contact list */
    Edge nodeA, nodeB;
} Contact;

typedef struct {
    int a, b;
    Vec2 localAnchor1, localAnchor2;
    double referenceAngle;
    Vec2 pivotForce;
    double motorForce, limitForce, limitPositionImpulse;
    double lower, upper, maxMotorTorque, motorSpeed;
    int enableLimit, enableMotor, limitState;
    Mat22 pivotMass;
    double motorMass;
    int islandFlag;
    int prev, next;
    Edge edgeA, edgeB;
} Joint;

typedef struct { AABB aabb; int parent, child1, child2, body; } Node;

/* The contact solver's per-step copy of a touching contact. */
typedef struct {
    Vec2 localPoint, rA, rB;
    double normalImpulse, tangentImpulse, normalMass, tangentMass, equalizedMass, velocityBias;
} ConstraintPoint;
typedef struct {
    int a, b, contact;
    Vec2 localPlaneNormal, localPoint, normal;
    Mat22 normalMass, K;
    ConstraintPoint points[2];
    double friction, restitution, radius;
    int type, pointCount;
} Constraint;

/* The collision routine's static clip vertices: their ids are shared objects in the original
 * (a clipped point takes the id object of the vertex it came from), so which object each one
 * refers to is state that outlives a call. */
typedef struct { Vec2 v; int id; } ClipVertex;

typedef struct {
    Body bodies[MAX_BODIES];
    int bodyCount, bodyList;
    Joint joints[MAX_JOINTS];
    int jointCount, jointList;
    Contact contacts[MAX_CONTACTS];
    int contactList;
    Node nodes[MAX_NODES];
    int nodeCount, root, freeList;
    int moves[MAX_MOVES];
    int moveCount;
    ClipVertex clip[6];  /* incident edge 0-1, clip points 1 at 2-3, clip points 2 at 4-5 */
    uint32_t clipKeys[6];
    int newFixture;
    double inv_dt0;
    /* the game */
    int runner[12];      /* body index of each runner part, state order */
    int jointOf[11];     /* joint index of each runner joint, state order */
    int track[3], hurdleBase, hurdleTop;
    double cameraX, cameraY;
    int fallen, jumped, jumpLanded, gameEnded, pause;
    int keys;
    int64_t updates, clockUpdates;
    double score;
} World;

void world_reset(World *w);
void world_update(World *w, int keys);
int world_status(const World *w);
void world_apply_keys(World *w, int keys);
void world_place(World *w, const double *state, double headTorque);

#endif
