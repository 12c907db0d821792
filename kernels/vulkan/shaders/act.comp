#version 450
#extension GL_GOOGLE_include_directive : require
// Elementwise activation y = act(x): 1 exact GELU, 2 quick_gelu.
#include "common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer BufX { float X[]; };
layout(std430, binding = 1) writeonly buffer BufY { float Y[]; };
layout(push_constant) uniform Params {
    uint n, act;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        Y[i] = activate(X[i], p.act);
    }
}
