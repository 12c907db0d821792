#version 450
// Multi-head attention, one work group per (query row i, head h, batch b):
//   out[b,i,h] = softmax_j(scale·q[b,i,h]·k[b,j,h] + mask[b,i,j]) · v[b,j,h]
// q and out hold B blocks of Tq rows, k and v B blocks of kvBatch rows
// (a KV cache with spare room) of which the first Tk are used; every row
// has ld values and head h is the column block [h·dh, (h+1)·dh). The
// additive mask is read at b·maskBatch + i·maskRow + j (maskBatch 0: one
// mask for the whole batch). A row masked everywhere with -Inf gives zeros.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BufQ { float Q[]; };
layout(std430, binding = 1) readonly buffer BufK { float K[]; };
layout(std430, binding = 2) readonly buffer BufV { float V[]; };
layout(std430, binding = 3) readonly buffer BufMask { float Mask[]; };
layout(std430, binding = 4) writeonly buffer BufO { float O[]; };
layout(push_constant) uniform Params {
    uint Tq, Tk, dh, ld;
    uint qBatch, kvBatch, maskBatch, maskRow;
    uint hasMask;
    float scale;
} p;

const uint MAXK = 3072u, MAXDH = 256u;
shared float S[MAXK];
shared float qs[MAXDH];
shared float red[64];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint i = gl_WorkGroupID.x, h = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    uint qBase = (b * p.qBatch + i) * p.ld + h * p.dh;
    uint kBase = b * p.kvBatch * p.ld + h * p.dh;
    uint mBase = b * p.maskBatch + i * p.maskRow;
    for (uint d = t; d < p.dh; d += 64u) {
        qs[d] = Q[qBase + d];
    }
    barrier();
    float mx = -1.0 / 0.0;
    for (uint j = t; j < p.Tk; j += 64u) {
        uint kr = kBase + j * p.ld;
        float s = 0.0;
        for (uint d = 0u; d < p.dh; d++) {
            s = fma(qs[d], K[kr + d], s);
        }
        s *= p.scale;
        if (p.hasMask != 0u) {
            s += Mask[mBase + j];
        }
        S[j] = s;
        mx = max(mx, s);
    }
    red[t] = mx;
    barrier();
    for (uint s = 32u; s > 0u; s >>= 1) {
        if (t < s) {
            red[t] = max(red[t], red[t + s]);
        }
        barrier();
    }
    mx = red[0];
    barrier();
    if (isinf(mx) && mx < 0.0) {
        for (uint d = t; d < p.dh; d += 64u) {
            O[qBase + d] = 0.0;
        }
        return;
    }
    float sum = 0.0;
    for (uint j = t; j < p.Tk; j += 64u) {
        float e = exp(S[j] - mx);
        S[j] = e;
        sum += e;
    }
    red[t] = sum;
    barrier();
    for (uint s = 32u; s > 0u; s >>= 1) {
        if (t < s) {
            red[t] += red[t + s];
        }
        barrier();
    }
    float inv = 1.0 / red[0];
    for (uint d = t; d < p.dh; d += 64u) {
        float o = 0.0;
        for (uint j = 0u; j < p.Tk; j++) {
            o = fma(S[j], V[kBase + j * p.ld + d], o);
        }
        O[qBase + d] = o * inv;
    }
}
