package support;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import llm.GgmlType;

/**
 * Float arrays to the bytes of a ggml tensor type, following ggml's reference quantizers
 * (quantize_row_*_ref in ggml-quants.c: the ones llama.cpp uses when no importance matrix is given),
 * written out in the exact block layouts of ggml-common.h so that llama.cpp and our reader decode the
 * same values. Used by tests to make model files; never by the lib.
 */
public final class Quantize {

    private Quantize() {}

    /** The values as {@code type}; the length must be a whole number of blocks. */
    public static byte[] quantize(GgmlType type, float[] x) {
        if (x.length % type.blockSize() != 0) {
            throw new IllegalArgumentException(x.length + " values are not a whole number of " + type + " blocks");
        }
        return switch (type) {
            case F32 -> f32(x);
            case F16 -> f16(x);
            case BF16 -> bf16(x);
            case Q8_0 -> q8_0(x);
            case Q4_0 -> q4_0(x);
            case Q4_K -> q4_K(x);
            case Q5_K -> q5_K(x);
            case Q6_K -> q6_K(x);
        };
    }

    public static byte[] f32(float[] x) {
        ByteBuffer out = buffer(x.length * 4);
        for (float v : x) {
            out.putFloat(v);
        }
        return out.array();
    }

    /** IEEE half, round to nearest even (what F16C's vcvtps2ph with mode 0 and ggml's C fallback do). */
    public static byte[] f16(float[] x) {
        ByteBuffer out = buffer(x.length * 2);
        for (float v : x) {
            out.putShort(Float.floatToFloat16(v));
        }
        return out.array();
    }

    public static byte[] bf16(float[] x) {
        ByteBuffer out = buffer(x.length * 2);
        for (float v : x) {
            out.putShort(bf16(v));
        }
        return out.array();
    }

    /** float to bfloat16 as ggml_compute_fp32_to_bf16: round to nearest even, NaN made quiet. */
    public static short bf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    // ---- Q8_0 / Q4_0 ----------------------------------------------------------------------------------

    /** Per block of 32: d = absmax / 127, q = round(x / d) (C's roundf: halves away from zero). */
    public static byte[] q8_0(float[] x) {
        int nb = x.length / 32;
        ByteBuffer out = buffer(nb * 34);
        for (int i = 0; i < nb; i++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[i * 32 + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            out.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                out.put((byte) roundf(x[i * 32 + j] * id));
            }
        }
        return out.array();
    }

    /** Per block of 32: d = (the value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5)). */
    public static byte[] q4_0(float[] x) {
        int nb = x.length / 32;
        ByteBuffer out = buffer(nb * 18);
        for (int i = 0; i < nb; i++) {
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++) {
                float v = x[i * 32 + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            out.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(15, (byte) (int) (x[i * 32 + j] * id + 8.5f));
                int q1 = Math.min(15, (byte) (int) (x[i * 32 + 16 + j] * id + 8.5f));
                out.put((byte) (q0 | (q1 << 4)));
            }
        }
        return out.array();
    }

    // ---- K-quants ------------------------------------------------------------------------------------

    /** Q4_K: 8 sub-blocks of 32 with an affine fit (scale and min) each, both quantized to 6 bits. */
    public static byte[] q4_K(float[] x) {
        return kQuant(x, 15, -1f, 0.1f, 20, false);
    }

    /** Q5_K: as Q4_K with 5-bit values. */
    public static byte[] q5_K(float[] x) {
        return kQuant(x, 31, -0.5f, 0.1f, 15, true);
    }

    private static byte[] kQuant(float[] x, int nmax, float rmin, float rdelta, int nstep, boolean fiveBits) {
        int nb = x.length / 256;
        int blockBytes = fiveBits ? 176 : 144;
        byte[] out = new byte[nb * blockBytes];
        int[] L = new int[256];
        int[] laux = new int[32];
        float[] weights = new float[32];
        float[] mins = new float[8];
        float[] scales = new float[8];
        float[] the_min = new float[1];
        for (int i = 0; i < nb; i++) {
            int xo = i * 256;
            int o = i * blockBytes;
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++) {
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) {
                    sumX2 += x[xo + 32 * j + l] * x[xo + 32 * j + l];
                }
                float avX = (float) Math.sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) {
                    weights[l] = avX + Math.abs(x[xo + 32 * j + l]);
                }
                scales[j] = makeQkx2Quants(32, nmax, x, xo + 32 * j, weights, L, 32 * j, the_min, laux, rmin, rdelta, nstep);
                mins[j] = the_min[0];
                maxScale = Math.max(maxScale, scales[j]);
                maxMin = Math.max(maxMin, mins[j]);
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            byte[] sc = new byte[12];
            for (int j = 0; j < 8; j++) {
                int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
                int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
                if (j < 4) {
                    sc[j] = (byte) ls;
                    sc[j + 4] = (byte) lm;
                } else {
                    sc[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                    sc[j - 4] |= (byte) ((ls >> 4) << 6);
                    sc[j] |= (byte) ((lm >> 4) << 6);
                }
            }
            short dBits = Float.floatToFloat16(maxScale / 63f);
            short dminBits = Float.floatToFloat16(maxMin / 63f);
            putShort(out, o, dBits);
            putShort(out, o + 2, dminBits);
            System.arraycopy(sc, 0, out, o + 4, 12);
            float d = Float.float16ToFloat(dBits), dmin = Float.float16ToFloat(dminBits);
            for (int j = 0; j < 8; j++) {
                int s = scaleK4(sc, j), m = minK4(sc, j);
                float dj = d * s;
                if (dj == 0) {
                    continue;
                }
                float dm = dmin * m;
                for (int ii = 0; ii < 32; ii++) {
                    int l = nearestInt((x[xo + 32 * j + ii] + dm) / dj);
                    L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
                }
            }
            if (!fiveBits) {
                for (int j = 0, q = o + 16; j < 256; j += 64, q += 32) {
                    for (int l = 0; l < 32; l++) {
                        out[q + l] = (byte) (L[j + l] | (L[j + l + 32] << 4));
                    }
                }
            } else {
                int qh = o + 16, ql = o + 48;
                int m1 = 1, m2 = 2;
                for (int n = 0; n < 256; n += 64) {
                    for (int j = 0; j < 32; j++) {
                        int l1 = L[n + j];
                        if (l1 > 15) {
                            l1 -= 16;
                            out[qh + j] |= (byte) m1;
                        }
                        int l2 = L[n + j + 32];
                        if (l2 > 15) {
                            l2 -= 16;
                            out[qh + j] |= (byte) m2;
                        }
                        out[ql + j] = (byte) (l1 | (l2 << 4));
                    }
                    m1 <<= 2;
                    m2 <<= 2;
                    ql += 32;
                }
            }
        }
        return out;
    }

    /** Q6_K: 16 sub-blocks of 16 with a symmetric 6-bit fit each; the 16 scales as int8 under one fp16 d. */
    public static byte[] q6_K(float[] x) {
        int nb = x.length / 256;
        byte[] out = new byte[nb * 210];
        int[] L = new int[256];
        float[] scales = new float[16];
        for (int i = 0; i < nb; i++) {
            int xo = i * 256;
            int o = i * 210;
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++) {
                float scale = makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib);
                scales[ib] = scale;
                if (Math.abs(scale) > maxAbsScale) {
                    maxAbsScale = Math.abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale < 1e-15f) { // all zero: an all-zero block
                continue;
            }
            float iscale = -128f / maxScale;
            short dBits = Float.floatToFloat16(1 / iscale);
            putShort(out, o + 208, dBits);
            for (int ib = 0; ib < 16; ib++) {
                out[o + 192 + ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            }
            float dAll = Float.float16ToFloat(dBits);
            for (int j = 0; j < 16; j++) {
                float d = dAll * out[o + 192 + j];
                if (d == 0) {
                    continue;
                }
                for (int ii = 0; ii < 16; ii++) {
                    int l = nearestInt(x[xo + 16 * j + ii] / d);
                    L[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
                }
            }
            for (int j = 0, ql = o, qh = o + 128; j < 256; j += 128, ql += 64, qh += 32) {
                for (int l = 0; l < 32; l++) {
                    int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                    out[ql + l] = (byte) (q1 | (q3 << 4));
                    out[ql + l + 32] = (byte) (q2 | (q4 << 4));
                    out[qh + l] = (byte) ((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2)
                            | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
            }
        }
        return out;
    }

    // ---- ggml's helpers ------------------------------------------------------------------------------

    /** Round half to even, as ggml's nearest_int (the 1.5 * 2^23 trick) does. */
    static int nearestInt(float f) {
        return (int) Math.rint(f);
    }

    /** C's roundf: halves away from zero. */
    static int roundf(float f) {
        return (int) Math.copySign(Math.floor(Math.abs((double) f) + 0.5), f);
    }

    /**
     * Affine fit x ~ scale * L + min with L in 0..nmax and min <= 0, weighted least squares over a few
     * candidate scales (ggml's make_qkx2_quants, use_mad = false). Returns the scale; the_min[0] = -min.
     */
    private static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo,
                                        float[] theMin, int[] laux, float rmin, float rdelta, int nstep) {
        float min = x[xo], max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            if (x[xo + i] < min) min = x[xo + i];
            if (x[xo + i] > max) max = x[xo + i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[xo + i];
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            theMin[0] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            bestError += weights[i] * (diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
                laux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xo + i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    curError += weights[i] * (diff * diff);
                }
                if (curError < bestError) {
                    for (int i = 0; i < n; i++) L[lo + i] = laux[i];
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /**
     * Symmetric fit x ~ scale * (L - nmax) with L in 0..2*nmax-1, weights x^2, trying 19 scales around
     * -nmax / max (ggml's make_qx_quants with rmse_type 1 and no importance weights). Returns the scale.
     */
    private static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < 1e-15f) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
            L[lo + i] = l + nmax;
            float w = x[xo + i] * x[xo + i];
            sumlx += w * x[xo + i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                float w = x[xo + i] * x[xo + i];
                sumlx += w * x[xo + i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    private static int scaleK4(byte[] q, int j) {
        return j < 4 ? q[j] & 63 : (q[j + 4] & 0xF) | (((q[j - 4] & 0xFF) >> 6) << 4);
    }

    private static int minK4(byte[] q, int j) {
        return j < 4 ? q[j + 4] & 63 : ((q[j + 4] & 0xFF) >> 4) | (((q[j] & 0xFF) >> 6) << 4);
    }

    private static void putShort(byte[] out, int at, short v) {
        out[at] = (byte) v;
        out[at + 1] = (byte) (v >> 8);
    }

    private static ByteBuffer buffer(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
