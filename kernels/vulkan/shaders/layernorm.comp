#version 450
// LayerNorm over rows of C values, one work group of 128 threads per row
// (walking the rows in steps of the group count), two passes (mean, then
// the biased variance of x-mean) as kernels.LayerNorm:
//   y = (x-mean)/sqrt(var+eps)·w + b
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer BufX { float X[]; };
layout(std430, binding = 1) readonly buffer BufW { float W[]; };
layout(std430, binding = 2) readonly buffer BufB { float Bb[]; };
layout(std430, binding = 3) writeonly buffer BufY { float Y[]; };
layout(push_constant) uniform Params {
    uint rows, cols;
    float eps;
} p;

shared float red[128];

float total(float v) {
    uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) {
        if (t < s) {
            red[t] += red[t + s];
        }
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
        uint base = r * p.cols;
        float s = 0.0;
        for (uint j = t; j < p.cols; j += 128u) {
            s += X[base + j];
        }
        float mean = total(s) / float(p.cols);
        float ss = 0.0;
        for (uint j = t; j < p.cols; j += 128u) {
            float d = X[base + j] - mean;
            ss = fma(d, d, ss);
        }
        float rstd = inversesqrt(total(ss) / float(p.cols) + p.eps);
        for (uint j = t; j < p.cols; j += 128u) {
            Y[base + j] = (X[base + j] - mean) * rstd * W[j] + Bb[j];
        }
    }
}
