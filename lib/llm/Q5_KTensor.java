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
 * Q5_K: like Q4_K with a fifth bit per value, 176 bytes per 256 values (ggml's block_q5_K):
 * fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 32 bytes qh of high bits, 128 bytes of nibbles.
 * Value 64c + l (l &lt; 32) takes the low nibble of qs[32c + l] and bit 2c of qh[l]; value 64c + 32 + l the
 * high nibble and bit 2c + 1. value = d * scale * q - dmin * min, q in 0..31.
 */
public final class Q5_KTensor extends FloatTensor {

    static final int BLOCK = 256;
    static final int BYTES = 176;

    Q5_KTensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.Q5_K, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        int e = (int) (index % BLOCK);
        int chunk = e / 64, within = e % 64, l = within % 32;
        int sub = 2 * chunk + within / 32;
        int packed = u8(data, base + 48 + 32 * chunk + l);
        int high = (u8(data, base + 16 + l) >> sub) & 1;
        int q = (within < 32 ? packed & 0xF : packed >> 4) + (high << 4);
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
        for (int sub = 0; sub < 8; sub++) { // nibbles as Q4_K; the fifth bit is bit `sub` of qh[l]
            boolean high = sub % 2 == 1;
            byte mask = (byte) (high ? 0xF0 : 0x0F), bit = (byte) (1 << sub);
            float ns = high ? 1f / 16 : 1f, hs = 16f / (1 << sub);
            long q = base + 48 + 32 * (sub / 2);
            int o = outOffset + 32 * sub;
            for (int k = 0; k < 32; k += L) {
                storeQuant(field(data, q + k, mask), field(data, base + 16 + k, bit), FloatVector.broadcast(F, ns),
                        FloatVector.broadcast(F, hs), FloatVector.broadcast(F, 128 * ns + 128 * hs),
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
     * As Q4_K's kernel (the mins from x's sub-block sums, one multiply-add per super-block), with
     * q = nibble + 16 * fifth bit, put together in int lanes after widening (x86 has no byte shifts).
     * 512-bit vectors only.
     */
    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks, float[] xSums) {
        float[] sm = scratch(); // [256, 272): this super-block's scales and mins times d and dmin
        FloatVector acc1 = FloatVector.zero(F), acc2 = acc1, mins = acc1;
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            kScalesMins16(data, base + 4, f16(data, base), f16(data, base + 2), sm, 256);
            mins = FloatVector.fromArray(F, sm, 256).fma(FloatVector.fromArray(F, xSums, 16 * b), mins);
            IntVector qh0 = (IntVector) loadBytes(data, base + 16).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector qh1 = (IntVector) loadBytes(data, base + 32).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            for (int c = 0; c < 4; c++) { // sub-blocks 2c (low nibbles, bit 2c of qh) and 2c + 1 (high nibbles, bit 2c + 1)
                int xi = xOffset + b * BLOCK + 64 * c;
                IntVector p0 = (IntVector) loadBytes(data, base + 48 + 32 * c).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p1 = (IntVector) loadBytes(data, base + 64 + 32 * c).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector h0 = qh0.lanewise(VectorOperators.LSHR, 2 * c), h1 = qh1.lanewise(VectorOperators.LSHR, 2 * c);
                FloatVector qx1 = ((FloatVector) p0.and(0xF).or(h0.and(1).lanewise(VectorOperators.LSHL, 4)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, x, xi));
                qx1 = ((FloatVector) p1.and(0xF).or(h1.and(1).lanewise(VectorOperators.LSHL, 4)).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, x, xi + 16), qx1);
                FloatVector qx2 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 4).or(h0.and(2).lanewise(VectorOperators.LSHL, 3))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 32));
                qx2 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 4).or(h1.and(2).lanewise(VectorOperators.LSHL, 3))
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 48), qx2);
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
            for (int c = 0; c < 4; c++) { // sub-blocks 2c (low nibbles, bit 2c of qh) and 2c + 1 (high nibbles, bit 2c + 1)
                int xi = xOffset + b * BLOCK + 64 * c;
                FloatVector qx1 = FloatVector.zero(F), qx2 = qx1, sx1 = qx1, sx2 = qx1;
                for (int k = 0; k < 32; k += L) {
                    IntVector packed = (IntVector) loadBytes(data, base + 48 + 32 * c + k).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector qh = (IntVector) loadBytes(data, base + 16 + k).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)
                            .lanewise(VectorOperators.LSHR, 2 * c);
                    IntVector q1 = packed.and(0xF).or(qh.and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector q2 = packed.lanewise(VectorOperators.LSHR, 4).or(qh.and(2).lanewise(VectorOperators.LSHL, 3));
                    FloatVector x1 = FloatVector.fromArray(F, x, xi + k), x2 = FloatVector.fromArray(F, x, xi + 32 + k);
                    qx1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x1, qx1);
                    qx2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).fma(x2, qx2);
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
