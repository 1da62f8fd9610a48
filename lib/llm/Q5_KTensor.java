//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

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

    /** As Q4_K's: the nibbles are laid out alike. */
    @Override
    float[] inKernelOrder(float[] x, int xOffset, int superBlocks, float[] out) {
        return L == 16 ? Q4_KTensor.inNibbleWordOrder(x, xOffset, superBlocks, out) : null;
    }

    /** qh's 8 words in both halves: lanes i and i + 8 of a load of nibbles cover the same bytes l of two chunks. */
    private static final VectorShuffle<Integer> QH_TWICE = VectorShuffle.fromOp(IntVector.SPECIES_512, i -> i % 8);
    /** For load h of nibbles (chunks 2h and 2h + 1), the shift that brings bit 2c of each qh byte to bit 0. */
    private static final IntVector[] QH_SHIFT = {
        IntVector.fromArray(IntVector.SPECIES_512, new int[] {0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2}, 0),
        IntVector.fromArray(IntVector.SPECIES_512, new int[] {4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6}, 0)};

    /**
     * Q4_K's kernel (x in the nibbles' order, each nibble masked into the mantissa of 1.0f) with the fifth
     * bit put in just above its nibble, so that 1 + q * 2^(4k - 23) holds q in 0..31. Word i of a load of
     * nibbles takes its fifth bits from qh's word i % 8 (QH_TWICE), shifted so that nibble e's bit sits at
     * bit 8 (e / 2) + e % 2 (QH_SHIFT); four more shifts of that (by 4, 7, -12, -9) bring it above nibbles
     * 0 and 2, 1 and 3, 4 and 6, 5 and 7, and a bitwise blend takes the nibbles from the word and the rest
     * from the shifted bits. Per 16 values: half a shift, half a blend, a mask-and-or, a subtract, a multiply-add.
     */
    @Override
    float dotRow(long first, float[] x, int xOffset, int blocks, float[] xSums, float[] scratch) {
        if (xSums == null) return dotBlocks(first, x, xOffset, blocks); // narrower vectors (takesSubBlockSums)
        float[] sm = scratch; // [256, 272): this super-block's scales and mins times d * 2^12 and dmin
        FloatVector low = FloatVector.zero(F), high = low, mins = low;
        long start = first * BYTES;
        for (int b = 0; b < blocks; b++) {
            long base = start + b * (long) BYTES;
            kScalesMins16(data, base + 4, f16(data, base) * 0x1p12f, f16(data, base + 2), sm, 256);
            FloatVector s = FloatVector.fromArray(F, sm, 256);
            mins = s.fma(FloatVector.fromArray(F, xSums, 16 * b), mins);
            int xi = xOffset + b * BLOCK;
            // 64 bytes from qh: its 32, then 32 of the nibbles that QH_TWICE drops
            IntVector qh = IntVector.fromMemorySegment(I, data, base + 16, ByteOrder.LITTLE_ENDIAN).rearrange(QH_TWICE);
            IntVector v = IntVector.fromMemorySegment(I, data, base + 48, ByteOrder.LITTLE_ENDIAN), u = v.lanewise(VectorOperators.LSHR, 16);
            IntVector bits = qh.lanewise(VectorOperators.LSHR, QH_SHIFT[0]);
            IntVector v02 = bits.lanewise(VectorOperators.LSHL, 4).lanewise(VectorOperators.BITWISE_BLEND, v, 0x0F0F);
            IntVector v13 = bits.lanewise(VectorOperators.LSHL, 7).lanewise(VectorOperators.BITWISE_BLEND, v, 0xF0F0);
            IntVector u02 = bits.lanewise(VectorOperators.LSHR, 12).lanewise(VectorOperators.BITWISE_BLEND, u, 0x0F0F);
            IntVector u13 = bits.lanewise(VectorOperators.LSHR, 9).lanewise(VectorOperators.BITWISE_BLEND, u, 0xF0F0);
            FloatVector lo = v02.and(0x1F).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).mul(FloatVector.fromArray(F, x, xi));
            FloatVector hi = v13.and(0x1F0).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).mul(FloatVector.fromArray(F, x, xi + 16));
            lo = v02.and(0x1F00).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 32), lo);
            hi = v13.and(0x1F000).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 48), hi);
            lo = u02.and(0x1F).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 64), lo);
            hi = u13.and(0x1F0).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 80), hi);
            lo = u02.and(0x1F00).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 96), lo);
            hi = u13.and(0x1F000).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 112), hi);
            low = lo.fma(s.rearrange(Q4_KTensor.SCALE_PAIRS[0]), low);
            high = hi.fma(s.rearrange(Q4_KTensor.SCALE_PAIRS[1]), high);
            IntVector w = IntVector.fromMemorySegment(I, data, base + 112, ByteOrder.LITTLE_ENDIAN), t = w.lanewise(VectorOperators.LSHR, 16);
            bits = qh.lanewise(VectorOperators.LSHR, QH_SHIFT[1]);
            IntVector w02 = bits.lanewise(VectorOperators.LSHL, 4).lanewise(VectorOperators.BITWISE_BLEND, w, 0x0F0F);
            IntVector w13 = bits.lanewise(VectorOperators.LSHL, 7).lanewise(VectorOperators.BITWISE_BLEND, w, 0xF0F0);
            IntVector t02 = bits.lanewise(VectorOperators.LSHR, 12).lanewise(VectorOperators.BITWISE_BLEND, t, 0x0F0F);
            IntVector t13 = bits.lanewise(VectorOperators.LSHR, 9).lanewise(VectorOperators.BITWISE_BLEND, t, 0xF0F0);
            lo = w02.and(0x1F).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).mul(FloatVector.fromArray(F, x, xi + 128));
            hi = w13.and(0x1F0).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).mul(FloatVector.fromArray(F, x, xi + 144));
            lo = w02.and(0x1F00).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 160), lo);
            hi = w13.and(0x1F000).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 176), hi);
            lo = t02.and(0x1F).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 192), lo);
            hi = t13.and(0x1F0).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 208), hi);
            lo = t02.and(0x1F00).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 224), lo);
            hi = t13.and(0x1F000).or(Q4_KTensor.ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 240), hi);
            low = lo.fma(s.rearrange(Q4_KTensor.SCALE_PAIRS[2]), low);
            high = hi.fma(s.rearrange(Q4_KTensor.SCALE_PAIRS[3]), high);
        }
        return low.add(high).reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
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
