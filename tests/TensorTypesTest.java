import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import llm.FloatTensor;
import llm.GgmlType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import support.Quantize;

/**
 * Every tensor type: decoding equals a reference decoder written here from ggml's dequantize_row_*
 * (bit-exact: the same float operations in the same order), quantizing then decoding stays within the
 * type's error bound, the Vector API dot product agrees with the scalar one, and matVec is row-wise dot.
 */
class TensorTypesTest {

    private static final double U = 0x1p-24; // unit roundoff of float

    @AfterEach
    void restoreThreads() {
        FloatTensor.setThreads(Runtime.getRuntime().availableProcessors());
    }

    // ---- decoding ----------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dequantizeAndGetFloatEqualTheReferenceDecoderBitForBit(GgmlType type) {
        Random rnd = new Random(type.ordinal());
        int n = 4 * Math.max(256, type.blockSize()) + (type.blockSize() == 1 ? 3 : 0);
        // bytes from the quantizer, and random bytes (every bit pattern of quants and scales)
        for (byte[] bytes : new byte[][] {Quantize.quantize(type, gaussian(rnd, n, 1.0)), randomBlocks(rnd, type, n)}) {
            float[] expected = reference(type, bytes, n);
            FloatTensor t = tensor(type, bytes, n);
            float[] all = new float[n];
            t.dequantize(0, all, 0, n);
            for (int i = 0; i < n; i++) {
                assertBits(expected[i], all[i], type + " dequantize element " + i);
                assertBits(expected[i], t.getFloat(i), type + " getFloat " + i);
            }
            // partial ranges that start and end inside blocks
            for (int[] r : new int[][] {{1, 5}, {31, 34}, {100, 300}, {n - 7, 7}}) {
                float[] part = new float[r[1] + 2];
                t.dequantize(r[0], part, 2, r[1]);
                for (int i = 0; i < r[1]; i++) {
                    assertBits(expected[r[0] + i], part[2 + i], type + " dequantize from " + r[0] + " element " + i);
                }
            }
        }
    }

    @Test
    void f16KernelGivesTheInfinityOrNaNOfARowThatHasOne() {
        // the kernel converts finite halves only and computes a row with an infinity or NaN again, exactly
        for (int special : new int[] {0x7C00, 0xFC00, 0x7E00}) {
            byte[] bytes = new byte[128 * 2];
            for (int i = 0; i < 128; i++) {
                int h = i == 77 ? special : Float.floatToFloat16(0.5f + i / 256f);
                bytes[2 * i] = (byte) h;
                bytes[2 * i + 1] = (byte) (h >> 8);
            }
            float[] ones = new float[128];
            Arrays.fill(ones, 1f);
            float dot = tensor(GgmlType.F16, bytes, 128).dot(0, ones, 0, 128);
            float expected = halfToFloat(special);
            if (Float.isNaN(expected)) {
                assertTrue(Float.isNaN(dot), "NaN row gave " + dot);
            } else {
                assertEquals(expected, dot, 0f, Integer.toHexString(special));
            }
        }
    }

    @Test
    void f16DecodesEveryHalfExactly() {
        // all 65536 bit patterns against IEEE 754's definition, computed here with exact scalb
        byte[] bytes = new byte[65536 * 2];
        for (int h = 0; h < 65536; h++) {
            bytes[2 * h] = (byte) h;
            bytes[2 * h + 1] = (byte) (h >> 8);
        }
        FloatTensor t = tensor(GgmlType.F16, bytes, 65536);
        float[] all = new float[65536];
        t.dequantize(0, all, 0, 65536);
        float[] onehot = new float[64];
        for (int h = 0; h < 65536; h++) {
            float expected = halfToFloat(h);
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(all[h]), "half " + Integer.toHexString(h));
            if (Float.isFinite(expected)) {
                // the Vector API kernel converts halves with bit tricks of its own: a one-hot dot isolates each
                // value (64 at a time, so that the kernel's loop runs; infinities and NaNs start at multiples of 1024)
                int group = h / 64 * 64;
                onehot[h - group] = 1f;
                assertEquals(expected, t.dot(group, onehot, 0, 64), 0f, "vector half " + Integer.toHexString(h));
                onehot[h - group] = 0f;
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q6_K", "Q4_K", "Q5_K", "BF16", "F32"})
    void vectorKernelReadsEachElementRight(GgmlType type) {
        // dot with a one-hot x is the element itself. Exact for every type: Q8_0/Q4_0 sum q*1 + 0s exactly and
        // scale once by d, the K-quants decode with the scalar's float operations, then add zeros.
        Random rnd = new Random(7);
        int bs = type.blockSize() == 1 ? 64 : type.blockSize();
        int n = 2 * bs;
        byte[] bytes = randomBlocks(rnd, type, n);
        float[] expected = reference(type, bytes, n);
        FloatTensor t = tensor(type, bytes, n);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int block = i / bs * bs;
            x[i - block] = 1f; // within one block (the kernels' one-block path)
            assertEquals(expected[i], t.dot(block, x, 0, bs), 0f, type + " element " + i); // 0f: +0 and -0 both fine
            x[i - block] = 0f;
            x[i] = 1f; // and within two (Q4_0 and Q8_0 take blocks two at a time)
            assertEquals(expected[i], t.dot(0, x, 0, n), 0f, type + " element " + i + " of two blocks");
            x[i] = 0f;
        }
    }

    // ---- quantization error ------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void quantizeThenDequantizeStaysWithinTheTypesErrorBound(GgmlType type) {
        Random rnd = new Random(11 + type.ordinal());
        int n = 256 * 16;
        for (double sigma : new double[] {1.0, 0.02, 300.0}) {
            float[] x = gaussian(rnd, n, sigma);
            x[5] = 0f; // exact zeros and a block of zeros must survive
            for (int i = 512; i < 768; i++) {
                x[i] = 0f;
            }
            float[] y = new float[n];
            tensor(type, Quantize.quantize(type, x), n).dequantize(0, y, 0, n);
            double sumErr2 = 0, sumX2 = 0;
            for (int i = 0; i < n; i++) {
                double err = Math.abs((double) y[i] - x[i]);
                double bound = errorBound(type, x, i);
                if (err > bound) {
                    fail(type + " sigma " + sigma + " element " + i + ": " + x[i] + " came back as " + y[i] + ", error " + err + " > bound " + bound);
                }
                sumErr2 += err * err;
                sumX2 += (double) x[i] * x[i];
            }
            for (int i = 512; i < 768; i++) {
                assertEquals(0f, y[i], 0f, type + " zero block");
            }
            // and on average much better than the worst case: relative RMS error for Gaussian data
            double rms = Math.sqrt(sumErr2 / sumX2);
            assertTrue(rms <= rmsBound(type), type + " sigma " + sigma + ": relative RMS error " + rms + " > " + rmsBound(type));
        }
    }

    /**
     * Worst-case error of one element. F16/BF16: half an ulp (relative 2^-11 / 2^-8). Q8_0: half a step
     * (d/2, d = absmax/127) plus 127 times the fp16 rounding of d (d * 2^-11). Q4_0: the step d = absmax/8
     * (the value opposite the extreme one can clip from +8 to +7: a whole step), plus fp16 rounding. The
     * K-quants fit a grid per sub-block (step about range/15 for Q4_K, range/31 for Q5_K, absmax/31 for Q6_K)
     * and store its scale (and min) in 6 bits (Q6_K: 8 bits) relative to the super-block's largest: half a
     * step from rounding, plus the stored scale's error times the top quant, which can clip the extreme value
     * of a sub-block whose scale is small next to the largest. For Gaussian data (sub-block ranges within a
     * factor of about two of each other) that stays under 1.5 steps for Q4_K/Q5_K, 1 step for Q6_K.
     */
    private static double errorBound(GgmlType type, float[] x, int i) {
        double eps = 1e-30;
        return switch (type) {
            case F32 -> 0;
            case F16 -> Math.abs(x[i]) * 0x1p-11 + 0x1p-25; // + half the smallest subnormal
            case BF16 -> Math.abs(x[i]) * 0x1p-8;
            case Q8_0 -> absMax(x, i, 32) / 127 * (0.5 + 127 * 0x1p-11) + eps;
            case Q4_0 -> absMax(x, i, 32) / 8 * (1 + 8 * 0x1p-11) + eps;
            case Q4_K -> 1.5 * range(x, i, 32) / 15 + eps;
            case Q5_K -> 1.5 * range(x, i, 32) / 31 + eps;
            case Q6_K -> absMax(x, i, 16) / 31 + eps;
        };
    }

    /** Relative RMS error bounds for Gaussian data: the uniform-rounding error step/sqrt(12) over the data's spread, with margin. */
    private static double rmsBound(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            case Q8_0 -> 0.01;
            case Q4_0 -> 0.12;
            case Q4_K -> 0.10;
            case Q5_K -> 0.05;
            case Q6_K -> 0.025;
        };
    }

    // ---- dot and matVec ---------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dotAgreesWithDotScalarAndTheExactSum(GgmlType type) {
        dotsAgree(type, 1.0);
    }

    /** Activations far from 1 in size: no kernel may lose its bound by scaling or converting x on the way. */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dotAgreesWithTheExactSumForHugeAndTinyActivations(GgmlType type) {
        dotsAgree(type, 0x1p100);
        dotsAgree(type, 0x1p-60);
    }

    private static void dotsAgree(GgmlType type, double sigma) {
        Random rnd = new Random(23 + type.ordinal());
        int bs = type.blockSize();
        int n = 18 * 256; // longer than FloatTensor.LONG_ROW, as the rows of Phi-3's down projection are
        byte[] bytes = randomBlocks(rnd, type, n);
        float[] mag = new float[n];
        float[] w = reference(type, bytes, n, mag);
        FloatTensor t = tensor(type, bytes, n);
        float[] x = gaussian(rnd, n + 5, sigma);
        // whole blocks, then ranges with a partial block at either end, then tiny ones
        int[][] ranges = {{0, n, 0}, {0, 768, 0}, {bs, n - bs, 3}, {bs, 768, 3}, {1, n - 1, 0}, {7, n - 20, 5}, {7, 700, 5},
                {bs - 1, 2, 1}, {0, 1, 0}, {n - 3, 3, 2}, {5, 0, 0}};
        for (int[] r : ranges) {
            long offset = r[0];
            int len = r[1], xOff = r[2];
            double exact = 0, magnitude = 0;
            for (int i = 0; i < len; i++) {
                exact += (double) w[(int) offset + i] * x[xOff + i];
                magnitude += (double) mag[(int) offset + i] * Math.abs(x[xOff + i]);
            }
            float vector = t.dot(offset, x, xOff, len);
            float scalar = t.dotScalar(offset, x, xOff, len);
            // Float sums of `len` products round at most len + 2 times (products, partial sums, a block's
            // scale): each result is within (len + 2) u sum|terms| of the exact sum (Higham's bound for
            // recursive summation; the kernels only change the order and grouping), so within twice that of
            // each other. For Q4_K/Q5_K the terms are d1 q x and m1 x (see reference), for the others w x.
            double bound = (len + 2) * U * magnitude;
            String what = type + " dot(" + offset + ", n=" + len + ")";
            assertTrue(Math.abs(scalar - exact) <= bound, what + " scalar " + scalar + " vs exact " + exact + " (bound " + bound + ")");
            assertTrue(Math.abs(vector - exact) <= bound, what + " vector " + vector + " vs exact " + exact + " (bound " + bound + ")");
            assertTrue(Math.abs(vector - scalar) <= 2 * bound, what + " vector " + vector + " vs scalar " + scalar);
        }
    }

    /**
     * matVec runs each row through the same kernels as dot (rows longer than 4096, FloatTensor.LONG_ROW,
     * four at a time). Within rounding of dot, not bit for bit: the four-row kernels add in their own
     * order, and which of the Vector API's two reduceLanes runs, the interpreted one or C2's (they add the
     * lanes in different orders), depends on when C2 compiles a kernel, which can happen between two calls.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matVecIsRowWiseDotOnEveryThreadCount(GgmlType type) {
        Random rnd = new Random(31 + type.ordinal());
        int bs = type.blockSize(), odd = bs == 1 ? 3 : 0;
        // an even and an odd number of blocks per row (kernels take blocks in pairs) and a long row; 70
        // rows: several decode tiles (32 rows or more each), with rows left over after groups of four
        for (int cols : new int[] {2 * Math.max(64, bs), 5 * Math.max(32, bs) + odd, 4096 + 2 * Math.max(32, bs) + odd}) {
            for (int rows : new int[] {1, 7, 13, 70}) {
                byte[] bytes = randomBlocks(rnd, type, rows * cols);
                float[] mag = new float[rows * cols];
                reference(type, bytes, rows * cols, mag);
                FloatTensor t = FloatTensor.of(type, MemorySegment.ofArray(bytes), new long[] {cols, rows});
                float[] x = gaussian(rnd, cols + 3, 1.0);
                for (int threads : new int[] {1, 2, 3}) {
                    FloatTensor.setThreads(threads);
                    float[] out = new float[rows + 4];
                    t.matVec(x, 3, out, 2, rows, cols);
                    for (int r = 0; r < rows; r++) {
                        double magnitude = 0;
                        for (int i = 0; i < cols; i++) magnitude += (double) mag[r * cols + i] * Math.abs(x[3 + i]);
                        double bound = 2 * (cols + 2) * U * magnitude; // each within (n + 2) u sum|terms| of the exact sum
                        float dot = t.dot((long) r * cols, x, 3, cols);
                        assertTrue(Math.abs(out[2 + r] - dot) <= bound,
                                type + " row " + r + " of " + rows + " x " + cols + " with " + threads + " threads: " + out[2 + r] + " vs dot " + dot);
                    }
                    assertEquals(0f, out[0]);
                    assertEquals(0f, out[rows + 3]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matMulOfSeveralTokensIsRowWiseDotOnEveryThreadCount(GgmlType type) {
        Random rnd = new Random(37 + type.ordinal());
        int cols = 2 * Math.max(64, type.blockSize()), xStride = cols + 5, outStride = 50;
        for (int rows : new int[] {7, 40}) { // 40: more rows than one prefill tile (16)
            byte[] bytes = randomBlocks(rnd, type, rows * cols);
            FloatTensor t = FloatTensor.of(type, MemorySegment.ofArray(bytes), new long[] {cols, rows});
            for (int n : new int[] {2, 5, 9}) { // a block of 4 tokens, and 1 left over; two blocks and 1
                float[] x = gaussian(rnd, 3 + n * xStride, 1.0);
                for (int threads : new int[] {1, 2, 3}) {
                    FloatTensor.setThreads(threads);
                    float[] out = new float[1 + n * outStride];
                    t.matMul(x, 3, xStride, out, 1, outStride, rows, cols, n);
                    for (int b = 0; b < n; b++) {
                        for (int r = 0; r < rows; r++) {
                            float expected = t.dotScalar((long) r * cols, x, 3 + b * xStride, cols);
                            double scale = 0;
                            for (int i = 0; i < cols; i++) scale += Math.abs(t.getFloat((long) r * cols + i) * x[3 + b * xStride + i]);
                            String what = type + " row " + r + " of " + rows + ", token " + b + " of " + n + ", " + threads + " threads";
                            assertEquals(expected, out[1 + b * outStride + r], 1e-5 * scale + 1e-30, what);
                        }
                    }
                    assertEquals(0f, out[0]);
                }
            }
        }
    }

    @Test
    void rangesOutsideTheTensorAreRefused() {
        FloatTensor t = tensor(GgmlType.Q8_0, new byte[34 * 2], 64);
        float[] x = new float[64];
        assertThrows(IndexOutOfBoundsException.class, () -> t.dot(1, x, 0, 64));
        assertThrows(IndexOutOfBoundsException.class, () -> t.dot(0, x, 1, 64));
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(64));
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> t.dequantize(60, x, 0, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> t.matVec(x, 0, new float[3], 0, 3, 32));
        assertThrows(IllegalArgumentException.class, () -> FloatTensor.of(GgmlType.Q8_0, MemorySegment.ofArray(new byte[33]), new long[] {32}));
        assertThrows(IllegalArgumentException.class, () -> FloatTensor.of(GgmlType.Q8_0, MemorySegment.ofArray(new byte[34]), new long[] {16, 2}));
        assertThrows(IllegalArgumentException.class, () -> FloatTensor.setThreads(0));
    }

    // ---- the reference decoders: ggml's dequantize_row_* in plain Java --------------------------------

    static float[] reference(GgmlType type, byte[] bytes, int n) {
        return reference(type, bytes, n, new float[n]);
    }

    /**
     * Decodes; also fills magnitude[i] with the size of what a kernel may add for element i: |value|, or for
     * Q4_K/Q5_K |d1 * q| + |m1|, since a kernel may sum d1 * q and m1 separately (d1 * sum(q x) - m1 * sum(x)).
     */
    static float[] reference(GgmlType type, byte[] bytes, int n, float[] magnitude) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] y = new float[n];
        switch (type) {
            case F32 -> { for (int i = 0; i < n; i++) y[i] = b.getFloat(4 * i); }
            case F16 -> { for (int i = 0; i < n; i++) y[i] = halfToFloat(b.getShort(2 * i) & 0xFFFF); }
            case BF16 -> { for (int i = 0; i < n; i++) y[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xFFFF) << 16); }
            case Q8_0 -> {
                for (int i = 0; i < n / 32; i++) {
                    int o = 34 * i;
                    float d = halfToFloat(b.getShort(o) & 0xFFFF);
                    for (int j = 0; j < 32; j++) y[32 * i + j] = bytes[o + 2 + j] * d;
                }
            }
            case Q4_0 -> {
                for (int i = 0; i < n / 32; i++) {
                    int o = 18 * i;
                    float d = halfToFloat(b.getShort(o) & 0xFFFF);
                    for (int j = 0; j < 16; j++) {
                        int x0 = (bytes[o + 2 + j] & 0x0F) - 8;
                        int x1 = ((bytes[o + 2 + j] & 0xFF) >> 4) - 8;
                        y[32 * i + j] = x0 * d;
                        y[32 * i + j + 16] = x1 * d;
                    }
                }
            }
            case Q4_K, Q5_K -> {
                boolean five = type == GgmlType.Q5_K;
                int size = five ? 176 : 144;
                for (int i = 0; i < n / 256; i++) {
                    int o = size * i;
                    float d = halfToFloat(b.getShort(o) & 0xFFFF);
                    float min = halfToFloat(b.getShort(o + 2) & 0xFFFF);
                    int ql = o + (five ? 48 : 16), qh = o + 16;
                    int yi = 256 * i;
                    int is = 0, u1 = 1, u2 = 2;
                    for (int j = 0; j < 256; j += 64) {
                        int[] sm1 = scaleMinK4(is, bytes, o + 4), sm2 = scaleMinK4(is + 1, bytes, o + 4);
                        float d1 = d * sm1[0], m1 = min * sm1[1];
                        float d2 = d * sm2[0], m2 = min * sm2[1];
                        for (int l = 0; l < 32; l++) {
                            int q = (bytes[ql + l] & 0x0F) + (five && (bytes[qh + l] & u1) != 0 ? 16 : 0);
                            magnitude[yi] = Math.abs(d1 * q) + Math.abs(m1);
                            y[yi++] = d1 * q - m1;
                        }
                        for (int l = 0; l < 32; l++) {
                            int q = ((bytes[ql + l] & 0xFF) >> 4) + (five && (bytes[qh + l] & u2) != 0 ? 16 : 0);
                            magnitude[yi] = Math.abs(d2 * q) + Math.abs(m2);
                            y[yi++] = d2 * q - m2;
                        }
                        ql += 32;
                        is += 2;
                        u1 <<= 2;
                        u2 <<= 2;
                    }
                }
            }
            case Q6_K -> {
                for (int i = 0; i < n / 256; i++) {
                    int o = 210 * i;
                    float d = halfToFloat(b.getShort(o + 208) & 0xFFFF);
                    int ql = o, qh = o + 128, sc = o + 192, yi = 256 * i;
                    for (int half = 0; half < 2; half++) {
                        for (int l = 0; l < 32; l++) {
                            int is = l / 16;
                            int q1 = ((bytes[ql + l] & 0xF) | (((bytes[qh + l] >> 0) & 3) << 4)) - 32;
                            int q2 = ((bytes[ql + l + 32] & 0xF) | (((bytes[qh + l] >> 2) & 3) << 4)) - 32;
                            int q3 = (((bytes[ql + l] & 0xFF) >> 4) | (((bytes[qh + l] >> 4) & 3) << 4)) - 32;
                            int q4 = (((bytes[ql + l + 32] & 0xFF) >> 4) | (((bytes[qh + l] >> 6) & 3) << 4)) - 32;
                            y[yi + l] = d * bytes[sc + is] * q1;
                            y[yi + l + 32] = d * bytes[sc + is + 2] * q2;
                            y[yi + l + 64] = d * bytes[sc + is + 4] * q3;
                            y[yi + l + 96] = d * bytes[sc + is + 6] * q4;
                        }
                        yi += 128;
                        ql += 64;
                        qh += 32;
                        sc += 8;
                    }
                }
            }
        }
        if (type != GgmlType.Q4_K && type != GgmlType.Q5_K) {
            for (int i = 0; i < n; i++) magnitude[i] = Math.abs(y[i]);
        }
        return y;
    }

    /** ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 packed bytes at q[o..]. */
    private static int[] scaleMinK4(int j, byte[] q, int o) {
        if (j < 4) {
            return new int[] {q[o + j] & 63, q[o + j + 4] & 63};
        }
        return new int[] {(q[o + j + 4] & 0xF) | (((q[o + j - 4] & 0xFF) >> 6) << 4),
                ((q[o + j + 4] & 0xFF) >> 4) | (((q[o + j] & 0xFF) >> 6) << 4)};
    }

    /** IEEE 754 binary16 to float from the definition (exact: scalb of small integers). */
    static float halfToFloat(int h) {
        int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
        float magnitude;
        if (exp == 31) {
            magnitude = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else if (exp == 0) {
            magnitude = Math.scalb((float) mant, -24);
        } else {
            magnitude = Math.scalb((float) (1024 + mant), exp - 25);
        }
        return sign == 1 ? -magnitude : magnitude;
    }

    // ---- data --------------------------------------------------------------------------------------------

    /**
     * n values' worth of random bytes in type's layout, with the fp16 scales replaced by random finite
     * ones of moderate size (random bits there would be NaN/inf/huge and say nothing about the kernels).
     */
    static byte[] randomBlocks(Random rnd, GgmlType type, int n) {
        byte[] bytes = new byte[(int) type.byteSize(n)];
        rnd.nextBytes(bytes);
        int per = type.bytesPerBlock();
        for (int o = 0; o < bytes.length; o += per) {
            switch (type) {
                case F32 -> putFloat(bytes, o, (float) rnd.nextGaussian());
                case F16 -> putHalf(bytes, o, (float) rnd.nextGaussian());
                case BF16 -> putShort(bytes, o, Quantize.bf16((float) rnd.nextGaussian()));
                case Q8_0, Q4_0 -> putHalf(bytes, o, (float) (rnd.nextGaussian() * 0.05));
                case Q4_K, Q5_K -> {
                    putHalf(bytes, o, (float) (Math.abs(rnd.nextGaussian()) * 0.01));
                    putHalf(bytes, o + 2, (float) (Math.abs(rnd.nextGaussian()) * 0.01));
                }
                case Q6_K -> putHalf(bytes, o + 208, (float) (rnd.nextGaussian() * 0.002));
            }
        }
        return bytes;
    }

    static float[] gaussian(Random rnd, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return x;
    }

    private static FloatTensor tensor(GgmlType type, byte[] bytes, int n) {
        return FloatTensor.of(type, MemorySegment.ofArray(bytes), new long[] {n});
    }

    private static double absMax(float[] x, int i, int group) {
        double m = 0;
        for (int j = i / group * group; j < i / group * group + group; j++) m = Math.max(m, Math.abs(x[j]));
        return m;
    }

    private static double range(float[] x, int i, int group) {
        double lo = 0, hi = Double.NEGATIVE_INFINITY; // the K-quant fit keeps the min at or below zero
        for (int j = i / group * group; j < i / group * group + group; j++) {
            lo = Math.min(lo, x[j]);
            hi = Math.max(hi, x[j]);
        }
        return hi - lo;
    }

    private static void assertBits(float expected, float actual, String what) {
        if (Float.floatToIntBits(expected) != Float.floatToIntBits(actual)) {
            fail(what + ": expected " + expected + " (0x" + Integer.toHexString(Float.floatToRawIntBits(expected))
                    + ") but was " + actual + " (0x" + Integer.toHexString(Float.floatToRawIntBits(actual)) + ")");
        }
    }

    private static void putHalf(byte[] b, int o, float v) {
        putShort(b, o, Float.floatToFloat16(v));
    }

    private static void putShort(byte[] b, int o, short v) {
        b[o] = (byte) v;
        b[o + 1] = (byte) (v >> 8);
    }

    private static void putFloat(byte[] b, int o, float v) {
        int bits = Float.floatToRawIntBits(v);
        for (int k = 0; k < 4; k++) b[o + k] = (byte) (bits >> (8 * k));
    }
}
