package llm;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The integer route of Q4_0 and Q8_0 matrix products (rows repacked at load time, activations quantized to
 * 8 bits per block of 32, 16-bit products) against plain references computed here in double precision.
 */
class Int8KernelsTest {

    static final int COLS = 1536, ROWS = 37; // 3 groups of 512 per row; a row count that splits unevenly

    /** Random valid blocks: random quants, scales of either sign between 1e-5 and 2e-2 (some fp16 subnormals). */
    static FloatTensor randomMatrix(GgmlType type, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long blocks = (long) ROWS * COLS / 32;
        MemorySegment data = Arena.ofAuto().allocate(blocks * type.bytesPerBlock());
        for (long i = 0; i < data.byteSize(); i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
        for (long b = 0; b < blocks; b++) {
            float d = (float) Math.exp(r.nextDouble(Math.log(1e-5), Math.log(2e-2))) * (r.nextBoolean() ? 1 : -1);
            data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b * type.bytesPerBlock(), Float.floatToFloat16(d));
        }
        return FloatTensor.of(type, data, new long[] {COLS, ROWS});
    }

    static float[] randomVector(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * (i % 97 == 0 ? 20 : 1)); // some outliers per block
        return x;
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0"})
    void repackedProductIsTheExactIntegerDotOfTheQuantizedActivations(String typeName) {
        Assumptions.assumeTrue(PackedRows.ENABLED, "no 256-bit vectors: the integer route is off");
        GgmlType type = GgmlType.valueOf(typeName);
        FloatTensor w = randomMatrix(type, 1);
        FloatTensor packed = w.forMatMul(COLS);
        assertNotSame(w, packed, "Q4_0/Q8_0 rows of 1536 are repacked");
        float[] x = randomVector(2, COLS);
        float[] out = new float[ROWS];
        packed.matVec(x, 0, out, 0, ROWS, COLS);
        Q8Activations a = new Q8Activations().quantize(x, 0, COLS);
        for (int r = 0; r < ROWS; r++) {
            double exact = 0, magnitude = 0;
            for (int i = 0; i < COLS; i++) {
                double term = (double) w.getFloat((long) r * COLS + i) * a.value(i / 32, i % 32);
                exact += term;
                magnitude += Math.abs(term);
            }
            // The integer sums are exact; what is left is float rounding of per-block scaling and the sum over
            // 48 blocks: a few ulps of the magnitude (1e-5 of it is ~80 ulps).
            assertEquals(exact, out[r], 1e-5 * magnitude + 1e-30, type + " row " + r);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0"})
    void repackedProductIsCloseToTheFloatProductWithinTheActivationRounding(String typeName) {
        Assumptions.assumeTrue(PackedRows.ENABLED, "no 256-bit vectors: the integer route is off");
        GgmlType type = GgmlType.valueOf(typeName);
        FloatTensor w = randomMatrix(type, 3);
        FloatTensor packed = w.forMatMul(COLS);
        float[] x = randomVector(4, COLS);
        float[] out = new float[ROWS];
        packed.matVec(x, 0, out, 0, ROWS, COLS);
        for (int r = 0; r < ROWS; r++) {
            double reference = 0, bound = 0;
            for (int b = 0; b < COLS / 32; b++) {
                double amax = 0;
                for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[b * 32 + i]));
                for (int i = 0; i < 32; i++) {
                    double wi = w.getFloat((long) r * COLS + b * 32 + i);
                    reference += wi * x[b * 32 + i];
                    bound += Math.abs(wi) * amax / 127 / 2; // each activation is off by at most half a step d = amax/127
                }
            }
            assertEquals(reference, out[r], bound * 1.01 + 1e-6, type + " row " + r);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0"})
    void aBatchGivesWhatOneTokenAtATimeGives(String typeName) {
        GgmlType type = GgmlType.valueOf(typeName);
        FloatTensor packed = randomMatrix(type, 5).forMatMul(COLS);
        int n = 3, stride = COLS + 7, outStride = ROWS + 2;
        float[] x = randomVector(6, n * stride);
        float[] batch = new float[n * outStride + 1];
        packed.matMul(x, 0, stride, batch, 1, outStride, ROWS, COLS, n);
        for (int b = 0; b < n; b++) {
            float[] one = new float[ROWS];
            packed.matVec(x, b * stride, one, 0, ROWS, COLS);
            for (int r = 0; r < ROWS; r++) assertEquals(one[r], batch[1 + b * outStride + r], 0f, "token " + b + " row " + r);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0"})
    void theRepackedTensorStillDecodesLikeTheFile(GgmlType type) {
        FloatTensor w = randomMatrix(type, 7);
        FloatTensor packed = w.forMatMul(COLS);
        float[] a = new float[COLS], b = new float[COLS];
        w.dequantize(5L * COLS, a, 0, COLS);
        packed.dequantize(5L * COLS, b, 0, COLS);
        assertArrayEquals(a, b);
        assertSame(packed, packed.forMatMul(COLS), "repacking twice does nothing");
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0000, 0x8000, 0x0001, 0x83FF, 0x0400, 0x3C00, 0xBC00, 0x7BF8, 0xFBF8, 0x1234, 0x03F8})
    void fp16ScalesConvertExactly(int bits) { // 8 consecutive halves from bits: subnormals, zeros, normals up to the largest finite
        Assumptions.assumeTrue(PackedRows.ENABLED, "no 256-bit vectors: the integer route is off");
        MemorySegment s = Arena.ofAuto().allocate(16);
        for (int i = 0; i < 8; i++) s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, (short) (bits + i));
        float[] out = PackedRows.scales(s, 0).toArray();
        for (int i = 0; i < 8; i++) assertEquals(Float.float16ToFloat((short) (bits + i)), out[i], 0f, "fp16 " + Integer.toHexString(bits + i));
    }
}
