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
     * vector step ({@link #kScalesMins16}), and each pair of sub-blocks is two loads. The four chunks of a
     * super-block are written out, so that the loop over super-blocks is the only loop (1.15-1.2x against a loop
     * over the chunks), calling the Vector API directly for the reason given at {@link Q4_0Tensor#dotBlocks}.
     */
    @Override
    float dotRow(long first, float[] x, int xOffset, int blocks, float[] xSums, float[] scratch) {
        if (xSums == null) return dotBlocks(first, x, xOffset, blocks); // narrower vectors (takesSubBlockSums)
        float[] sm = scratch; // [256, 272): this super-block's scales and mins times d and dmin
        FloatVector acc1 = FloatVector.zero(F), acc2 = acc1, mins = acc1;
        long start = first * BYTES;
        for (int b = 0; b < blocks; b++) {
            // the offset as a constant plus the loop counter times BYTES: C2 compiles this form to shorter
            // code than (first + b) * BYTES (1.1-1.2x here; see the README's Performance section for the others)
            long base = start + b * (long) BYTES;
            kScalesMins16(data, base + 4, f16(data, base), f16(data, base + 2), sm, 256);
            mins = FloatVector.fromArray(F, sm, 256).fma(FloatVector.fromArray(F, xSums, 16 * b), mins);
            int xi = xOffset + b * BLOCK;
            IntVector p0a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector p0b = (IntVector) ByteVector.fromMemorySegment(B, data, base + 32, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector lo0 = ((FloatVector) p0a.and(0xF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi));
            lo0 = ((FloatVector) p0b.and(0xF).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 16), lo0);
            FloatVector hi0 = ((FloatVector) p0a.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 32));
            hi0 = ((FloatVector) p0b.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 48), hi0);
            acc1 = lo0.fma(FloatVector.broadcast(F, sm[256]), acc1);
            acc2 = hi0.fma(FloatVector.broadcast(F, sm[257]), acc2);
            IntVector p1a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 48, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector p1b = (IntVector) ByteVector.fromMemorySegment(B, data, base + 64, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector lo1 = ((FloatVector) p1a.and(0xF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 64));
            lo1 = ((FloatVector) p1b.and(0xF).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 80), lo1);
            FloatVector hi1 = ((FloatVector) p1a.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 96));
            hi1 = ((FloatVector) p1b.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 112), hi1);
            acc1 = lo1.fma(FloatVector.broadcast(F, sm[258]), acc1);
            acc2 = hi1.fma(FloatVector.broadcast(F, sm[259]), acc2);
            IntVector p2a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 80, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector p2b = (IntVector) ByteVector.fromMemorySegment(B, data, base + 96, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector lo2 = ((FloatVector) p2a.and(0xF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 128));
            lo2 = ((FloatVector) p2b.and(0xF).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 144), lo2);
            FloatVector hi2 = ((FloatVector) p2a.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 160));
            hi2 = ((FloatVector) p2b.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 176), hi2);
            acc1 = lo2.fma(FloatVector.broadcast(F, sm[260]), acc1);
            acc2 = hi2.fma(FloatVector.broadcast(F, sm[261]), acc2);
            IntVector p3a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 112, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector p3b = (IntVector) ByteVector.fromMemorySegment(B, data, base + 128, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector lo3 = ((FloatVector) p3a.and(0xF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 192));
            lo3 = ((FloatVector) p3b.and(0xF).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 208), lo3);
            FloatVector hi3 = ((FloatVector) p3a.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 224));
            hi3 = ((FloatVector) p3b.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xi + 240), hi3);
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
            for (int c = 0; c < 4; c++) { // 32 bytes: low nibbles are sub-block 2c, high nibbles 2c + 1
                int xi = xOffset + b * BLOCK + 64 * c;
                FloatVector qx1 = FloatVector.zero(F), qx2 = qx1, sx1 = qx1, sx2 = qx1;
                for (int k = 0; k < 32; k += L) {
                    ByteVector bytes = loadBytes(data, base + 16 + 32 * c + k);
                    for (int p = 0; p < PARTS; p++) { // a load of L bytes widens to PARTS int vectors
                        IntVector packed = (IntVector) bytes.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                        int xk = xi + k + p * F.length();
                        FloatVector x1 = FloatVector.fromArray(F, x, xk), x2 = FloatVector.fromArray(F, x, xk + 32);
                        qx1 = ((FloatVector) packed.and(0xF).convert(VectorOperators.I2F, 0)).fma(x1, qx1);
                        qx2 = ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(x2, qx2);
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
