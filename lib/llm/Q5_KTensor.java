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
     * 512-bit vectors only. The four chunks are written out as in Q4_K's kernel, for the same reason.
     */
    @Override
    float dotRow(long first, float[] x, int xOffset, int blocks, float[] xSums, float[] scratch) {
        if (xSums == null) return dotBlocks(first, x, xOffset, blocks); // narrower vectors (takesSubBlockSums)
        float[] sm = scratch; // [256, 272): this super-block's scales and mins times d and dmin
        FloatVector acc1 = FloatVector.zero(F), acc2 = acc1, mins = acc1;
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            kScalesMins16(data, base + 4, f16(data, base), f16(data, base + 2), sm, 256);
            mins = FloatVector.fromArray(F, sm, 256).fma(FloatVector.fromArray(F, xSums, 16 * b), mins);
            IntVector qh0 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector qh1 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 32, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            int xi = xOffset + b * BLOCK;
            // sub-blocks 0 (low nibbles, bit 0 of qh) and 1 (high nibbles, bit 1)
            IntVector p0a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 48, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector p0b = (IntVector) ByteVector.fromMemorySegment(B, data, base + 64, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector lo0 = ((FloatVector) p0a.and(0xF).or(qh0.lanewise(VectorOperators.LSHL, 4).and(0x10)).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi));
            lo0 = ((FloatVector) p0b.and(0xF).or(qh1.lanewise(VectorOperators.LSHL, 4).and(0x10)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 16), lo0);
            FloatVector hi0 = ((FloatVector) p0a.lanewise(VectorOperators.LSHR, 4).or(qh0.lanewise(VectorOperators.LSHL, 3).and(0x10)).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 32));
            hi0 = ((FloatVector) p0b.lanewise(VectorOperators.LSHR, 4).or(qh1.lanewise(VectorOperators.LSHL, 3).and(0x10)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 48), hi0);
            acc1 = lo0.fma(FloatVector.broadcast(F, sm[256]), acc1);
            acc2 = hi0.fma(FloatVector.broadcast(F, sm[257]), acc2);
            // sub-blocks 2 (low nibbles, bit 2 of qh) and 3 (high nibbles, bit 3)
            IntVector p1a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 80, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector p1b = (IntVector) ByteVector.fromMemorySegment(B, data, base + 96, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector lo1 = ((FloatVector) p1a.and(0xF).or(qh0.lanewise(VectorOperators.LSHL, 2).and(0x10)).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 64));
            lo1 = ((FloatVector) p1b.and(0xF).or(qh1.lanewise(VectorOperators.LSHL, 2).and(0x10)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 80), lo1);
            FloatVector hi1 = ((FloatVector) p1a.lanewise(VectorOperators.LSHR, 4).or(qh0.lanewise(VectorOperators.LSHL, 1).and(0x10)).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 96));
            hi1 = ((FloatVector) p1b.lanewise(VectorOperators.LSHR, 4).or(qh1.lanewise(VectorOperators.LSHL, 1).and(0x10)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 112), hi1);
            acc1 = lo1.fma(FloatVector.broadcast(F, sm[258]), acc1);
            acc2 = hi1.fma(FloatVector.broadcast(F, sm[259]), acc2);
            // sub-blocks 4 (low nibbles, bit 4 of qh) and 5 (high nibbles, bit 5)
            IntVector p2a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 112, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector p2b = (IntVector) ByteVector.fromMemorySegment(B, data, base + 128, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector lo2 = ((FloatVector) p2a.and(0xF).or(qh0.and(0x10)).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 128));
            lo2 = ((FloatVector) p2b.and(0xF).or(qh1.and(0x10)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 144), lo2);
            FloatVector hi2 = ((FloatVector) p2a.lanewise(VectorOperators.LSHR, 4).or(qh0.lanewise(VectorOperators.LSHR, 1).and(0x10)).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 160));
            hi2 = ((FloatVector) p2b.lanewise(VectorOperators.LSHR, 4).or(qh1.lanewise(VectorOperators.LSHR, 1).and(0x10)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 176), hi2);
            acc1 = lo2.fma(FloatVector.broadcast(F, sm[260]), acc1);
            acc2 = hi2.fma(FloatVector.broadcast(F, sm[261]), acc2);
            // sub-blocks 6 (low nibbles, bit 6 of qh) and 7 (high nibbles, bit 7)
            IntVector p3a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 144, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector p3b = (IntVector) ByteVector.fromMemorySegment(B, data, base + 160, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector lo3 = ((FloatVector) p3a.and(0xF).or(qh0.lanewise(VectorOperators.LSHR, 2).and(0x10)).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 192));
            lo3 = ((FloatVector) p3b.and(0xF).or(qh1.lanewise(VectorOperators.LSHR, 2).and(0x10)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 208), lo3);
            FloatVector hi3 = ((FloatVector) p3a.lanewise(VectorOperators.LSHR, 4).or(qh0.lanewise(VectorOperators.LSHR, 3).and(0x10)).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 224));
            hi3 = ((FloatVector) p3b.lanewise(VectorOperators.LSHR, 4).or(qh1.lanewise(VectorOperators.LSHR, 3).and(0x10)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 240), hi3);
            acc1 = lo3.fma(FloatVector.broadcast(F, sm[262]), acc1);
            acc2 = hi3.fma(FloatVector.broadcast(F, sm[263]), acc2);
        }
        return acc1.add(acc2).reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #dotBlocks} for any vector size: loops over super-blocks, chunks of 32 bytes, and loads of L bytes (PARTS int vectors each). */
    float dotBlocksAnyWidth(long first, float[] x, int xOffset, int blocks) {
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
                    ByteVector nibbles = loadBytes(data, base + 48 + 32 * c + k), fifthBits = loadBytes(data, base + 16 + k);
                    for (int p = 0; p < PARTS; p++) { // a load of L bytes widens to PARTS int vectors
                        IntVector packed = (IntVector) nibbles.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                        IntVector qh = ((IntVector) fifthBits.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p))
                                .lanewise(VectorOperators.LSHR, 2 * c);
                        IntVector q1 = packed.and(0xF).or(qh.and(1).lanewise(VectorOperators.LSHL, 4));
                        IntVector q2 = packed.lanewise(VectorOperators.LSHR, 4).or(qh.and(2).lanewise(VectorOperators.LSHL, 3));
                        int xk = xi + k + p * F.length();
                        FloatVector x1 = FloatVector.fromArray(F, x, xk), x2 = FloatVector.fromArray(F, x, xk + 32);
                        qx1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x1, qx1);
                        qx2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).fma(x2, qx2);
                        sx1 = sx1.add(x1);
                        sx2 = sx2.add(x2);
                    }
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
