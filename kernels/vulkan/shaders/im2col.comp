#version 450
// Cuts pixels (B, C, S, S) into patches (B·P, C·ps·ps) in (channel, row,
// col) order, the layout of the patch conv weight viewed as (Dv, C·ps·ps).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer BufX { float X[]; };
layout(std430, binding = 1) writeonly buffer BufY { float Y[]; };
layout(push_constant) uniform Params {
    uint b, c, s, ps;
} p;

void main() {
    uint g = p.s / p.ps, np = g * g, kk = p.c * p.ps * p.ps;
    uint n = p.b * np * kk;
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
        uint row = i / kk, col = i % kk;
        uint bi = row / np, pi = row % np;
        uint py = pi / g, px = pi % g;
        uint ch = col / (p.ps * p.ps), r = (col / p.ps) % p.ps, x = col % p.ps;
        Y[i] = X[((bi * p.c + ch) * p.s + py * p.ps + r) * p.s + px * p.ps + x];
    }
}
