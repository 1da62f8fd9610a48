//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K: super-blocks of 256 values = 8 sub-blocks of 32, 144 bytes (ggml's block_q4_K):
 * fp16 d, fp16 dmin, 12 bytes holding eight 6-bit scales and eight 6-bit mins, 128 bytes of nibbles.
 * Each 32 bytes of nibbles cover 64 values: low nibbles the first 32 (sub-block 2c), high nibbles the
 * next 32 (sub-block 2c + 1). value = d * scale * q - dmin * min.
 */
public final class Q4_KTensor extends FloatTensor {

    static final int BLOCK = 256;
    static final int BYTES = 144;

    Q4_KTensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.Q4_K, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        int e = (int) (index % BLOCK);
        int chunk = e / 64, within = e % 64;
        int sub = 2 * chunk + within / 32;
        int packed = u8(data, base + 16 + 32 * chunk + within % 32);
        int q = within < 32 ? packed & 0xF : packed >> 4;
        float d1 = f16(data, base) * kScale(data, base + 4, sub);
        float m1 = f16(data, base + 2) * kMin(data, base + 4, sub);
        return d1 * q - m1;
    }

    /** Vector decode of one super-block; the same values, bit for bit, as {@link #getFloat} (see storeQuant). */
    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        // the scales and mins stay packed in two longs until a sub-block needs its own, as in dotBlocksAnyWidth
        float d = f16(data, base), dmin = f16(data, base + 2);
        long scales = kScales(data, base + 4), mins = kMins(data, base + 4);
        for (int sub = 0; sub < 8; sub++) { // chunk c = sub / 2: low nibbles are sub-block 2c, high nibbles 2c + 1
            boolean high = sub % 2 == 1;
            byte mask = (byte) (high ? 0xF0 : 0x0F);
            float ns = high ? 1f / 16 : 1f;
            long q = base + 16 + 32 * (sub / 2);
            int o = outOffset + 32 * sub;
            for (int k = 0; k < 32; k += L) {
                ByteVector n = field(data, q + k, mask);
                storeQuant(n, n, FloatVector.broadcast(F, ns), FloatVector.zero(F), FloatVector.broadcast(F, 128 * ns),
                        FloatVector.broadcast(F, d * (int) (scales >>> 8 * sub & 0xFF)),
                        FloatVector.broadcast(F, dmin * (int) (mins >>> 8 * sub & 0xFF)), out, o + k);
            }
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        return L == 16 ? dotBlocksSummingX(first, x, xOffset, blocks) : dotBlocksAnyWidth(first, x, xOffset, blocks);
    }

    @Override
    boolean takesSubBlockSums() {
        return L == 16;
    }

    /**
     * Per sub-block j: sum(value * x) = d * scale_j * sum(q * x) - dmin * min_j * sum(x). The first sum is
     * a vector accumulator over the quants as they are (0..15), times the scale once per 32 values; the
     * sums of x come from xSums (the same for every row of a matrix), so a super-block's mins cost one
     * multiply-add of its 8 scales and 8 mins with them. The nibbles are split after widening to ints
     * (x86 has no byte shifts). 512-bit vectors only: the super-block's scales and mins are decoded in one
     * vector step ({@link #kScalesMins16}), and each pair of sub-blocks is two loads, written out.
     */
    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks, float[] xSums) {
        float[] sm = scratch(); // [256, 272): this super-block's scales and mins times d and dmin
        FloatVector acc1 = FloatVector.zero(F), acc2 = acc1, mins = acc1;
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            kScalesMins16(data, base + 4, f16(data, base), f16(data, base + 2), sm, 256);
            mins = FloatVector.fromArray(F, sm, 256).fma(FloatVector.fromArray(F, xSums, 16 * b), mins);
            for (int c = 0; c < 4; c++) { // 32 bytes: low nibbles are sub-block 2c, high nibbles 2c + 1
                int xi = xOffset + b * BLOCK + 64 * c;
                IntVector p0 = (IntVector) loadBytes(data, base + 16 + 32 * c).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p1 = (IntVector) loadBytes(data, base + 32 + 32 * c).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                FloatVector qx1 = ((FloatVector) p0.and(0xF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi));
                qx1 = ((FloatVector) p1.and(0xF).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 16), qx1);
                FloatVector qx2 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 32));
                qx2 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 48), qx2);
                acc1 = qx1.fma(FloatVector.broadcast(F, sm[256 + 2 * c]), acc1);
                acc2 = qx2.fma(FloatVector.broadcast(F, sm[257 + 2 * c]), acc2);
            }
        }
        return acc1.add(acc2).reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #dotBlocks} for any vector size: loops over super-blocks, chunks of 32 bytes, and loads of L bytes. */
    float dotBlocksAnyWidth(long first, float[] x, int xOffset, int blocks) {
        if (PARTS != 1) {
            return dotViaDecode(first, x, xOffset, blocks);
        }
        FloatVector acc = FloatVector.zero(F), minSum = acc;
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            // the scales and mins stay packed in two longs (one byte each) until a sub-block needs its own:
            // going through a float array cost 40% of the kernel's time
            float d = f16(data, base), dmin = f16(data, base + 2);
            long scales = kScales(data, base + 4), mins = kMins(data, base + 4);
            for (int c = 0; c < 4; c++) { // 32 bytes: low nibbles are sub-block 2c, high nibbles 2c + 1
                int xi = xOffset + b * BLOCK + 64 * c;
                FloatVector qx1 = FloatVector.zero(F), qx2 = qx1, sx1 = qx1, sx2 = qx1;
                for (int k = 0; k < 32; k += L) {
                    IntVector packed = (IntVector) loadBytes(data, base + 16 + 32 * c + k).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    FloatVector x1 = FloatVector.fromArray(F, x, xi + k), x2 = FloatVector.fromArray(F, x, xi + 32 + k);
                    qx1 = ((FloatVector) packed.and(0xF).convert(VectorOperators.I2F, 0)).fma(x1, qx1);
                    qx2 = ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(x2, qx2);
                    sx1 = sx1.add(x1);
                    sx2 = sx2.add(x2);
                }
                acc = qx1.fma(FloatVector.broadcast(F, d * (int) (scales >>> 16 * c & 0xFF)), acc);
                acc = qx2.fma(FloatVector.broadcast(F, d * (int) (scales >>> 16 * c + 8 & 0xFF)), acc);
                minSum = sx1.fma(FloatVector.broadcast(F, dmin * (int) (mins >>> 16 * c & 0xFF)), minSum);
                minSum = sx2.fma(FloatVector.broadcast(F, dmin * (int) (mins >>> 16 * c + 8 & 0xFF)), minSum);
            }
        }
        return acc.sub(minSum).reduceLanes(VectorOperators.ADD);
    }
}
